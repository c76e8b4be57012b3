#!/usr/bin/env python3
"""Writes the seed corpus of the libFuzzer targets into tests/fuzz/corpus/<target>/.

Every seed is hand-written hex (one comment per field), never the output of the
encoders under test. Run it again after editing a seed; the files are checked in:

    python3 tests/fuzz/make_corpus.py

Input formats are described at the top of each fuzz_*.cpp.
"""

import pathlib
import shutil

HERE = pathlib.Path(__file__).resolve().parent


def hexbytes(text):
    """Bytes from hex text; '#' starts a comment that runs to the end of the line."""
    lines = [line.split("#", 1)[0] for line in text.splitlines()]
    return bytes.fromhex(" ".join(lines))


# ---- MQTT packets a client sends ---------------------------------------------------------

CONNECT_U_P = hexbytes("""
    10 13              # CONNECT, remaining length 19
    00 04 4d 51 54 54  # protocol name "MQTT"
    04                 # protocol level 4 (3.1.1)
    c2                 # flags: username, password, clean session
    00 3c              # keep alive 60 s
    00 01 63           # client id "c"
    00 01 75           # username "u"
    00 01 70           # password "p"
""")

CONNECT_WILL = hexbytes("""
    10 1d              # CONNECT, remaining length 29
    00 04 4d 51 54 54  # protocol name "MQTT"
    04                 # protocol level 4
    ee                 # flags: username, password, will retain, will QoS 1, will, clean session
    00 05              # keep alive 5 s
    00 01 63           # client id "c"
    00 03 77 2f 74     # will topic "w/t"
    00 03 62 79 65     # will message "bye"
    00 01 75           # username "u"
    00 01 70           # password "p"
""")

CONNECT_31_EMPTY_ID = hexbytes("""
    10 0e                    # CONNECT, remaining length 14
    00 06 4d 51 49 73 64 70  # protocol name "MQIsdp"
    03                       # protocol level 3 (3.1)
    02                       # flags: clean session
    00 00                    # keep alive off
    00 00                    # client id "" (refused in 3.1)
""")

CONNECT_BAD_PASSWORD = hexbytes("""
    10 13              # CONNECT, remaining length 19
    00 04 4d 51 54 54  # protocol name "MQTT"
    04                 # protocol level 4
    c2                 # flags: username, password, clean session
    00 00              # keep alive off
    00 01 63           # client id "c"
    00 01 75           # username "u"
    00 01 78           # password "x" (wrong)
""")

CONNECT_LEVEL_5 = hexbytes("""
    10 0d              # CONNECT, remaining length 13
    00 04 4d 51 54 54  # protocol name "MQTT"
    05                 # protocol level 5 (not supported: CONNACK 1)
    02                 # flags: clean session
    00 00              # keep alive off
    00 01 63           # client id "c"
""")

PUBLISH_Q0 = hexbytes("""
    30 08              # PUBLISH QoS 0, remaining length 8
    00 03 61 2f 62     # topic "a/b"
    68 69 21           # payload "hi!"
""")

PUBLISH_Q1 = hexbytes("""
    3b 0a              # PUBLISH dup=1 QoS 1 retain=1, remaining length 10
    00 03 61 2f 62     # topic "a/b"
    00 07              # packet id 7
    78 79 7a           # payload "xyz"
""")

PUBLISH_Q2 = hexbytes("""
    34 09              # PUBLISH QoS 2, remaining length 9
    00 03 61 2f 62     # topic "a/b"
    00 08              # packet id 8
    71 32              # payload "q2"
""")

PUBACK_7 = hexbytes("40 02  00 07  # PUBACK, packet id 7")
PUBREC_8 = hexbytes("50 02  00 08  # PUBREC, packet id 8")
PUBREL_8 = hexbytes("62 02  00 08  # PUBREL (flags 0010), packet id 8")
PUBCOMP_8 = hexbytes("70 02  00 08  # PUBCOMP, packet id 8")

SUBSCRIBE_10 = hexbytes("""
    82 0e              # SUBSCRIBE (flags 0010), remaining length 14
    00 0a              # packet id 10
    00 03 61 2f 2b     # filter "a/+"
    01                 # QoS 1
    00 03 62 2f 23     # filter "b/#"
    02                 # QoS 2
""")

UNSUBSCRIBE_11 = hexbytes("""
    a2 07              # UNSUBSCRIBE (flags 0010), remaining length 7
    00 0b              # packet id 11
    00 03 61 2f 2b     # filter "a/+"
""")

PINGREQ = hexbytes("c0 00  # PINGREQ")
DISCONNECT = hexbytes("e0 00  # DISCONNECT")

# ---- MQTT packets a server sends ---------------------------------------------------------

CONNACK_0 = hexbytes("20 02  00  00  # CONNACK, session present 0, return code 0")
CONNACK_SP = hexbytes("20 02  01  00  # CONNACK, session present 1, return code 0")
SUBACK_10 = hexbytes("90 04  00 0a  01 80  # SUBACK id 10: granted QoS 1, failure")
UNSUBACK_11 = hexbytes("b0 02  00 0b  # UNSUBACK id 11")
PINGRESP = hexbytes("d0 00  # PINGRESP")

# ---- malformed -------------------------------------------------------------------------

FIVE_BYTE_LENGTH = hexbytes("30 ff ff ff ff 7f  # PUBLISH, remaining length with 5 bytes")
NON_MINIMAL_LENGTH = hexbytes("""
    c0 80 00           # PINGREQ, remaining length 0 written in 2 bytes
""")
RESERVED_TYPE = hexbytes("f0 00  # reserved packet type 15")
PUBLISH_WILDCARD = hexbytes("""
    30 05              # PUBLISH QoS 0, remaining length 5
    00 03 61 2f 23     # topic "a/#" (wildcard: refused)
""")
BAD_UTF8 = hexbytes("""
    30 06              # PUBLISH QoS 0, remaining length 6
    00 04 ed a0 80 61  # topic: a UTF-16 surrogate U+D800, then "a"
""")


def check_lengths():
    """Each well-formed packet above: its 1-byte remaining length counts the rest."""
    for name, value in globals().items():
        if name.isupper() and isinstance(value, bytes) and name not in (
                "FIVE_BYTE_LENGTH", "NON_MINIMAL_LENGTH"):
            assert value[1] == len(value) - 2, f"{name}: length {value[1]} != {len(value) - 2}"


check_lengths()

# ---- fuzz_framer_decoder: settings byte + stream -------------------------------------


def framer_seed(stream, limit_index=6, chunk=8):
    """Byte 0: size limit index (bits 0-2), chunk size - 1 (bits 3-7)."""
    return bytes([((chunk - 1) << 3) | limit_index]) + stream


FRAMER = {
    "connect": framer_seed(CONNECT_U_P),
    "connect_will": framer_seed(CONNECT_WILL, chunk=1),
    "connect_31": framer_seed(CONNECT_31_EMPTY_ID),
    "connect_level5": framer_seed(CONNECT_LEVEL_5),
    "publish_q0": framer_seed(PUBLISH_Q0),
    "publish_q1": framer_seed(PUBLISH_Q1, chunk=3),
    "publish_q2": framer_seed(PUBLISH_Q2),
    "acks": framer_seed(PUBACK_7 + PUBREC_8 + PUBREL_8 + PUBCOMP_8, chunk=5),
    "subscribe": framer_seed(SUBSCRIBE_10),
    "unsubscribe": framer_seed(UNSUBSCRIBE_11),
    "ping_disconnect": framer_seed(PINGREQ + DISCONNECT, chunk=1),
    "server_packets": framer_seed(CONNACK_0 + CONNACK_SP + SUBACK_10 + UNSUBACK_11 + PINGRESP),
    "session": framer_seed(CONNECT_U_P + SUBSCRIBE_10 + PUBLISH_Q2 + PUBREL_8 + PINGREQ
                           + UNSUBSCRIBE_11 + DISCONNECT, chunk=32),
    "small_limit": framer_seed(PUBLISH_Q1, limit_index=1),  # limit 16 bytes, packet 12: fits
    "over_limit": framer_seed(CONNECT_U_P, limit_index=1),  # 21 bytes > 16
    "five_byte_length": framer_seed(FIVE_BYTE_LENGTH),
    "non_minimal_length": framer_seed(NON_MINIMAL_LENGTH),
    "reserved_type": framer_seed(RESERVED_TYPE),
    "publish_wildcard": framer_seed(PUBLISH_WILDCARD),
    "bad_utf8": framer_seed(BAD_UTF8),
}

# ---- fuzz_connection: settings byte + op program --------------------------------------


def chunk(data):
    """Op 00-7f: client bytes, length - 1, then the bytes (split longer data)."""
    out = b""
    while data:
        part, data = data[:128], data[128:]
        out += bytes([len(part) - 1]) + part
    return out


def split(data, *cuts):
    """Client bytes cut at the given offsets, one op per piece."""
    out, last = b"", 0
    for cut in list(cuts) + [len(data)]:
        out += chunk(data[last:cut])
        last = cut
    return out


CONNACK_OK = hexbytes("90 00 00  # router connack: session present 0, return code 0")
CONNACK_SP_OK = hexbytes("90 01 00  # router connack: session present 1, return code 0")
CONNACK_REFUSED = hexbytes("90 00 05  # router connack: return code 5 (not authorized)")
SUBACK_EVENT = hexbytes("93 00 0a 01 01 03  # router suback id 10: 2 codes, QoS 1 and 0x80")
UNSUBACK_EVENT = hexbytes("94 00 0b  # router unsuback id 11")
PUBACK_EVENT = hexbytes("92 00 00 07  # router send_ack PUBACK id 7")
PUBREC_EVENT = hexbytes("92 01 00 08  # router send_ack PUBREC id 8")
PUBCOMP_EVENT = hexbytes("92 03 00 08  # router send_ack PUBCOMP id 8")
DELIVER_Q1 = hexbytes("""
    91                 # router deliver
    05                 # flags: QoS 1, retain
    00 09              # packet id 9
    03 61 2f 62        # topic "a/b"
    02 68 69           # payload "hi"
""")
DELIVER_Q0 = hexbytes("""
    91                 # router deliver
    00                 # flags: QoS 0
    00 00              # packet id (none at QoS 0)
    01 78              # topic "x"
    00                 # empty payload
""")
KEEP_ALIVE_EXPIRES = hexbytes("8f 8f  # jump to deadline() twice: 90 s keep-alive timeout")
CONNACK_TIMEOUT = hexbytes("87  # 10 s pass: no connack from the router")
CONNECT_TIMEOUT = hexbytes("88  # 10.001 s pass: no CONNECT")
ROUTER_CLOSE = hexbytes("95 04  # router close_connection, reason taken_over")
TRANSPORT_CLOSED = hexbytes("97  # transport closed")
SHUTDOWN = hexbytes("98  # frontend shutdown")
STRAY_EVENT = hexbytes("96  # a frontend->router event comes back")

SETTINGS = bytes([0x0E])  # before CONNECT 4096 bytes, after 256 KiB
SMALL_LIMIT = bytes([0x05])  # before CONNECT 64 bytes, after 64 bytes

CONNECTION = {
    "session": SETTINGS + chunk(CONNECT_U_P) + CONNACK_OK + chunk(SUBSCRIBE_10) + SUBACK_EVENT
    + chunk(PUBLISH_Q1) + PUBACK_EVENT + DELIVER_Q1 + chunk(PUBACK_7.replace(b"\x07", b"\x09"))
    + chunk(PINGREQ) + chunk(UNSUBSCRIBE_11) + UNSUBACK_EVENT + chunk(DISCONNECT),
    "qos2": SETTINGS + chunk(CONNECT_WILL) + CONNACK_SP_OK + chunk(PUBLISH_Q2) + PUBREC_EVENT
    + chunk(PUBREL_8) + PUBCOMP_EVENT + DELIVER_Q0 + TRANSPORT_CLOSED,
    "split_connect": SETTINGS + split(CONNECT_U_P + PINGREQ + PUBLISH_Q0, 1, 2, 7, 22)
    + CONNACK_OK + STRAY_EVENT + SHUTDOWN,
    "pipelined": SETTINGS + chunk(CONNECT_U_P + SUBSCRIBE_10 + PUBLISH_Q0 + PINGREQ)
    + CONNACK_OK + SUBACK_EVENT,
    "keep_alive": SETTINGS + chunk(CONNECT_WILL) + CONNACK_OK + KEEP_ALIVE_EXPIRES,
    "connack_timeout": SETTINGS + chunk(CONNECT_U_P) + CONNACK_TIMEOUT + CONNACK_OK,
    "connect_timeout": SETTINGS + CONNECT_TIMEOUT + chunk(CONNECT_U_P),
    "refused_by_router": SETTINGS + chunk(CONNECT_U_P) + chunk(PINGREQ) + CONNACK_REFUSED
    + DELIVER_Q0,
    "bad_password": SETTINGS + chunk(CONNECT_BAD_PASSWORD) + CONNACK_OK,
    "empty_id_31": SETTINGS + chunk(CONNECT_31_EMPTY_ID),
    "level5": SETTINGS + chunk(CONNECT_LEVEL_5),
    "router_close": SETTINGS + chunk(CONNECT_U_P) + CONNACK_OK + ROUTER_CLOSE + chunk(PINGREQ),
    "second_connect": SETTINGS + chunk(CONNECT_U_P) + CONNACK_OK + chunk(CONNECT_U_P),
    "client_sends_connack": SETTINGS + chunk(CONNECT_U_P) + CONNACK_OK + chunk(CONNACK_0),
    "over_limit": SMALL_LIMIT + chunk(CONNECT_U_P) + CONNACK_OK + chunk(PUBLISH_Q1 + b"x" * 60),
    "not_connect_first": SETTINGS + chunk(PINGREQ),
    "malformed": SETTINGS + chunk(CONNECT_U_P) + CONNACK_OK + chunk(FIVE_BYTE_LENGTH),
}

# ---- fuzz_events: msgpack envelopes [version, kind, body] ----------------------------

EVENTS = {
    "hello": hexbytes("""
        93 01 00           # envelope: array 3, version 1, kind 0 (hello)
        93                 # body: array 3
        a2 66 65           #   frontend_id "fe"
        01                 #   protocol_version 1
        cf 00 00 00 01 02 03 04 05  # incarnation (uint64)
    """),
    "client_connect": hexbytes("""
        93 01 01           # envelope: version 1, kind 1 (client_connect)
        97                 # body: array 7
        2a                 #   conn 42
        a1 63              #   client_id "c"
        c3                 #   clean_session true
        04                 #   protocol_level 4
        3c                 #   keep_alive 60
        a1 75              #   username "u"
        c0                 #   will: nil
    """),
    "client_connect_will": hexbytes("""
        93 01 01           # envelope: version 1, kind 1 (client_connect)
        97                 # body: array 7
        2a                 #   conn 42
        a1 63              #   client_id "c"
        c2                 #   clean_session false
        04                 #   protocol_level 4
        cd 01 2c           #   keep_alive 300 (uint16)
        a0                 #   username ""
        94                 #   will: array 4
        a3 77 2f 74        #     topic "w/t"
        c4 03 62 79 65     #     payload bin "bye"
        01                 #     qos 1
        c3                 #     retain true
    """),
    "client_publish": hexbytes("""
        93 01 02           # envelope: version 1, kind 2 (client_publish)
        98                 # body: array 8
        2a                 #   conn 42
        a3 61 2f 62        #   topic "a/b"
        c4 03 78 79 7a     #   payload bin "xyz"
        01                 #   qos 1
        c2                 #   retain false
        c2                 #   dup false
        07                 #   packet_id 7
        cf 00 05 f0 00 00 00 00 00  # received_us (uint64)
    """),
    "client_publish_7_fields": hexbytes("""
        93 01 02           # envelope: version 1, kind 2 (client_publish)
        97                 # body: array 7 (received_us omitted, as older senders do)
        2a                 #   conn 42
        a1 74              #   topic "t"
        c4 00              #   payload bin ""
        00                 #   qos 0
        c3                 #   retain true
        c2                 #   dup false
        00                 #   packet_id 0
    """),
    "client_ack": hexbytes("93 01 03  93 2a 05 cd 01 00  # client_ack: conn 42, PUBREC, id 256"),
    "client_subscribe": hexbytes("""
        93 01 04           # envelope: version 1, kind 4 (client_subscribe)
        93                 # body: array 3
        2a                 #   conn 42
        0a                 #   packet_id 10
        92                 #   subscriptions: array 2
        92 a3 61 2f 2b 01  #     ["a/+", 1]
        92 a3 62 2f 23 02  #     ["b/#", 2]
    """),
    "client_unsubscribe": hexbytes("""
        93 01 05           # envelope: version 1, kind 5 (client_unsubscribe)
        93 2a 0b           # body: conn 42, packet_id 11,
        91 a3 61 2f 2b     #   filters ["a/+"]
    """),
    "client_disconnect": hexbytes("93 01 06  92 2a 02  # client_disconnect: conn 42, keep_alive_timeout"),
    "connack": hexbytes("93 01 07  94 2a c3 00 05  # connack: conn 42, sp true, rc 0, router incarnation 5"),
    "deliver": hexbytes("""
        93 01 08           # envelope: version 1, kind 8 (deliver)
        98                 # body: array 8
        2a                 #   conn 42
        a3 61 2f 62        #   topic "a/b"
        c4 02 68 69        #   payload bin "hi"
        02                 #   qos 2
        c3                 #   retain true
        c3                 #   dup true
        cd ff ff           #   packet_id 65535
        00                 #   received_us 0
    """),
    "send_ack": hexbytes("93 01 09  93 2a 07 09  # send_ack: conn 42, PUBCOMP, id 9"),
    "suback": hexbytes("93 01 0a  93 2a 0a 92 01 cc 80  # suback: conn 42, id 10, [1, 0x80]"),
    "unsuback": hexbytes("93 01 0b  92 2a 0b  # unsuback: conn 42, id 11"),
    "close_connection": hexbytes("93 01 0c  92 2a 04  # close_connection: conn 42, taken_over"),
    "router_hello": hexbytes("93 01 0d  92 a2 72 31 05  # router_hello: \"r1\", incarnation 5"),
    "route_publish": hexbytes("""
        93 01 0e           # envelope: version 1, kind 14 (route_publish)
        97                 # body: array 7
        a2 72 31           #   origin "r1"
        cf 00 00 01 00 00 00 00 01  # stamp (uint64)
        a3 61 2f 62        #   topic "a/b"
        c4 01 7a           #   payload bin "z"
        01                 #   qos 1
        c2                 #   retain false
        00                 #   received_us 0
    """),
    "router_leaving": hexbytes("93 01 0f  92 a2 72 31 05  # router_leaving: \"r1\", incarnation 5"),
    "session_fetch": hexbytes("""
        93 01 10           # envelope: version 1, kind 16 (session_fetch)
        93 03 a1 63 a2 72 32  # body: request 3, client_id "c", requester "r2"
    """),
    "session_state": hexbytes("""
        93 01 11           # envelope: version 1, kind 17 (session_state)
        9b                 # body: array 11
        03                 #   request 3
        a1 63              #   client_id "c"
        a2 72 31           #   sender "r1"
        c3                 #   found true
        91 92 a3 61 2f 23 01  # subscriptions [["a/#", 1]]
        92                 #   inflight: array 2
        95 05 00 01 c2     #     [id 5, state 0 (awaiting PUBACK), qos 1, retain false,
        96 a3 61 2f 62 c4 01 78 01 c2 0a a2 72 31  # message ["a/b", bin "x", 1, false, 10, "r1"]]
        95 06 02 02 c2 c0  #     [id 6, state 2 (awaiting PUBCOMP), qos 2, false, nil]
        91                 #   queue: array 1
        93                 #     [
        96 a3 61 2f 63 c4 00 02 c3 0b a2 72 31  # message ["a/c", bin "", 2, true, 11, "r1"]
        01 c3              #      qos 1, retain true]
        91 09              #   inbound_qos2 [9]
        06                 #   last_packet_id 6
        91 92 a2 72 31 0b  #   seen [["r1", 11]]
        a0                 #   pushed_to ""
    """),
    "session_state_ack": hexbytes("93 01 12  92 a1 63 a2 72 32  # session_state_ack: \"c\", \"r2\""),
    "retained_sync_request": hexbytes("93 01 13  91 a2 72 32  # retained_sync_request: \"r2\""),
    "retained_sync": hexbytes("""
        93 01 14           # envelope: version 1, kind 20 (retained_sync)
        93                 # body: array 3
        a2 72 31           #   sender "r1"
        91 96 a3 61 2f 62 c4 01 76 00 c3 0c a2 72 31  # messages [["a/b", bin "v", 0, true, 12, "r1"]]
        c3                 #   last true
    """),
    "router_stats": hexbytes("""
        93 01 15           # envelope: version 1, kind 21 (router_stats)
        93                 # body: array 3
        a2 72 31           #   router_id "r1"
        05                 #   incarnation 5
        91 92 b1 63 6c 69 65 6e 74 73 2e 63 6f 6e 6e 65 63 74 65 64 03
                           #   values [["clients.connected", 3]]
    """),
    "route_ack": hexbytes("""
        93 01 16           # envelope: version 1, kind 22 (route_ack)
        93                 # body: array 3
        a2 72 31           #   router_id "r1"
        cd 01 00           #   stamp 256 (uint16)
        c3                 #   resend true
    """),
    "deliver_many": hexbytes("""
        93 01 17           # envelope: version 1, kind 23 (deliver_many)
        95                 # body: array 5
        a3 61 2f 62        #   topic "a/b"
        c4 02 68 69        #   payload bin "hi"
        c3                 #   retain true
        cf 00 05 f0 00 00 00 00 00  # received_us (uint64)
        93                 #   targets: array 3
        93 2a 00 00        #     [conn 42, qos 0, packet_id 0]
        93 2b 01 07        #     [conn 43, qos 1, packet_id 7]
        93 cd 01 2c 02 cd ff ff  # [conn 300 (uint16), qos 2, packet_id 65535 (uint16)]
    """),
    # A ZeroMQ message holds a batch: envelopes back to back (decode_batch).
    "batch_2": hexbytes("""
        93 01 07           # envelope 1: version 1, kind 7 (connack)
        94 2a c2 00 05     #   body: conn 42, session_present false, rc 0, router incarnation 5
        93 01 17           # envelope 2: version 1, kind 23 (deliver_many)
        95                 #   body: array 5
        a1 74              #     topic "t"
        c4 00              #     payload bin ""
        c2                 #     retain false
        00                 #     received_us 0
        91 93 2a 01 01     #     targets [[conn 42, qos 1, packet_id 1]]
    """),
    "batch_cut": hexbytes("""
        93 01 09           # envelope 1: version 1, kind 9 (send_ack)
        93 2a 04 07        #   body: conn 42, PUBACK, packet_id 7
        93 01 09           # envelope 2: version 1, kind 9 (send_ack)
        93 2a 04           #   body: conn 42, PUBACK, then the message ends (packet_id cut)
    """),
    "version_2": hexbytes("93 02 00 90  # envelope of an unknown version 2"),
    "unknown_kind": hexbytes("93 01 7f 90  # version 1, kind 127"),
    "not_an_array": hexbytes("c1  # msgpack's never-used byte"),
}


def write(target, seeds):
    folder = HERE / "corpus" / target
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, data in seeds.items():
        (folder / name).write_bytes(data)
    print(f"{target}: {len(seeds)} seeds in {folder.relative_to(HERE.parent.parent)}")


if __name__ == "__main__":
    write("fuzz_framer_decoder", FRAMER)
    write("fuzz_connection", CONNECTION)
    write("fuzz_events", EVENTS)
