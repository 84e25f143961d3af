#!/usr/bin/python3
"""Writes the hostile GGUF corpus, tests/data/hostile/gguf/*.gguf (run: /usr/bin/python3 tools/hostile/make_gguf_hostile.py).

Each file is a small GGUF broken in one way, laid out byte by byte from the format as ggml
defines it (ggml/include/gguf.h: magic "GGUF", u32 version, u64 tensor count, u64 key/value
count, the key/values, the tensor infos, padding to general.alignment (32 by default), the
data section). Nothing here uses tessera or llama.cpp code. tests/gguf_hostile_test.cpp says,
for each file, which tessera::Error (message fragments) it must produce. The ok*.gguf files
are valid and must load. Running the script twice gives the same bytes.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "data", "hostile", "gguf")

# GGUF value types (gguf.h) and the ggml tensor types used here (ggml.h).
U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
T_F32, T_F16, T_Q4_0, T_Q4_2, T_Q4_K, T_IQ2_XXS, T_F64 = 0, 1, 2, 4, 12, 16, 28
SCALAR_FMT = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<B",
              U64: "<Q", I64: "<q", F64: "<d"}


def gstr(s):
    b = s if isinstance(s, bytes) else s.encode()
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, value):
    """One key/value: key, type, then the value (arrays: (elem_type, [values]))."""
    out = gstr(key) + struct.pack("<I", vtype)
    if vtype == STRING:
        return out + gstr(value)
    if vtype == ARRAY:
        elem, values = value
        out += struct.pack("<IQ", elem, len(values))
        for v in values:
            out += gstr(v) if elem == STRING else struct.pack(SCALAR_FMT[elem], v)
        return out
    return out + struct.pack(SCALAR_FMT[vtype], value)


def tinfo(name, ne, ttype, offset):
    return gstr(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<q", d) for d in ne) + \
        struct.pack("<IQ", ttype, offset)


def gguf(kvs, infos, data=b"", version=3, n_tensors=None, n_kv=None, alignment=32, magic=b"GGUF"):
    """kvs and infos: lists of encoded entries; data: the data section (placed after padding)."""
    head = magic + struct.pack("<IQQ", version, len(infos) if n_tensors is None else n_tensors,
                               len(kvs) if n_kv is None else n_kv)
    head += b"".join(kvs) + b"".join(infos)
    if infos:
        head += b"\0" * ((-len(head)) % alignment)
    return head + data


def write(name, data):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def f32s(*values):
    return struct.pack("<%df" % len(values), *values)


# The valid base file: metadata as a llama.cpp model has it (a string, integers, a float, a
# bool, arrays of strings and integers) and two tensors: 'a' F32 ne=[4] at 0 and 'w' Q4_0
# ne=[32, 2] (2 rows of one 18-byte block) at 32.
BASE_KVS = [
    kv("general.architecture", STRING, "llama"),
    kv("general.name", STRING, "tiny"),
    kv("llama.block_count", U32, 2),
    kv("llama.rope.freq_base", F32, 10000.0),
    kv("tokenizer.ggml.add_bos_token", BOOL, 1),
    kv("tokenizer.ggml.tokens", ARRAY, (STRING, ["a", "b", "ab"])),
    kv("tokenizer.ggml.token_type", ARRAY, (I32, [1, 1, 1])),
]
Q4_0_ROWS = bytes(range(36))  # two blocks; the bytes only have to be there
BASE_DATA = f32s(1.0, -2.0, 3.5, 0.25) + b"\0" * 16 + Q4_0_ROWS


def base_infos(a=("a", [4], T_F32, 0), w=("w", [32, 2], T_Q4_0, 32)):
    return [tinfo(*a), tinfo(*w)]


OK = gguf(BASE_KVS, base_infos(), BASE_DATA)
write("ok.gguf", OK)
write("ok_no_tensors.gguf", gguf(BASE_KVS, []))
write("ok_empty.gguf", gguf([], []))
# A tensor with a zero dimension (ggml allows it) takes no bytes and sits anywhere aligned.
write("ok_zero_elements.gguf", gguf([], [tinfo("z", [0, 3], T_F32, 0), tinfo("a", [4], T_F32, 0)], f32s(1, 2, 3, 4)))
# general.alignment 8: the data section and the offsets follow it.
write("ok_alignment_8.gguf", gguf([kv("general.alignment", U32, 8)],
                                  [tinfo("a", [2], T_F32, 0), tinfo("b", [2], T_F32, 8)],
                                  f32s(1, 2, 3, 4), alignment=8))

# ---------------------------------------------------------------- the header
write("empty.gguf", b"")
write("short.gguf", b"GG")
write("bad_magic.gguf", b"GGML" + OK[4:])
write("magic_binary.gguf", b"\x00\xffGU" + OK[4:])
write("version_0.gguf", gguf(BASE_KVS, base_infos(), BASE_DATA, version=0))
write("version_1.gguf", gguf(BASE_KVS, base_infos(), BASE_DATA, version=1))
write("version_4.gguf", gguf(BASE_KVS, base_infos(), BASE_DATA, version=4))
write("version_byteswapped.gguf", gguf(BASE_KVS, base_infos(), BASE_DATA, version=0x03000000))
write("tensor_count_absurd.gguf", gguf(BASE_KVS, base_infos(), BASE_DATA, n_tensors=1 << 62))
write("tensor_count_negative.gguf", gguf(BASE_KVS, base_infos(), BASE_DATA, n_tensors=(1 << 64) - 1))
write("kv_count_absurd.gguf", gguf(BASE_KVS, base_infos(), BASE_DATA, n_kv=1 << 40))
# Counts one more than the entries: the reader runs out of file on the missing entry (the
# extra key/value is read from the tensor infos' bytes and fails on its value type).
write("tensor_count_lies.gguf", b"GGUF" + struct.pack("<IQQ", 3, 3, len(BASE_KVS)) + b"".join(BASE_KVS) +
      b"".join(base_infos()))
write("kv_count_lies.gguf", gguf(BASE_KVS, [], n_kv=len(BASE_KVS) + 1))

# Truncated at many points: inside the version, the counts, a key's length, a key's name, a
# value type, a string value, an array, a tensor name, a tensor's dimensions, its type, its
# offset, the padding before the data section, and the last tensor's data.
def offset_of(needle, after=0):
    i = OK.find(needle, after)
    assert i >= 0, needle
    return i


W_AT = offset_of(tinfo("w", [32, 2], T_Q4_0, 32))  # name 9 bytes, n_dims 4, dims 16, type 4, offset 8
PADDING = len(OK) - len(BASE_DATA) - (24 + len(b"".join(BASE_KVS)) + len(b"".join(base_infos())))
TRUNCATIONS = {
    "version": 6,
    "counts": 20,
    "array": offset_of(gstr("ab")) + 9,  # inside the tokens array's last string
    "tensor_type": W_AT + 29 + 2,
    "tensor_offset": W_AT + 33 + 3,
    "padding": len(OK) - len(BASE_DATA) - 1,  # (the header is not a multiple of 32: asserted below)
    "data": len(OK) - 5,
}
for what, n in TRUNCATIONS.items():
    assert 0 < n < len(OK), what
    write("truncated_%s.gguf" % what, OK[:n])
# Inside tensor #1's name length and its dimensions, in a file whose tensor #0 has a long name
# (cut any earlier, fewer bytes are left than two tensor infos need: the count check says so).
LONG = tinfo("blk.0.attn_output.weight.of.a.long.name", [32, 2], T_Q4_0, 0)
TWO_T = gguf([], [LONG, tinfo("w", [32, 2], T_Q4_0, 64)], Q4_0_ROWS + b"\0" * 28 + Q4_0_ROWS)
for what, n in {"tensor_name": 24 + len(LONG) + 4, "tensor_dims": 24 + len(LONG) + 9 + 4 + 5}.items():
    write("truncated_%s.gguf" % what, TWO_T[:n])
# Inside key #1 of a two-key file (a cut inside key #0 leaves fewer bytes than two keys need,
# which the key/value count check reports first): its length, its name, its value type and
# its string value.
TWO_KVS = [kv("general.architecture", STRING, "llama"), kv("general.name", STRING, "tiny")]
TWO = gguf(TWO_KVS, [])
K1 = 24 + len(TWO_KVS[0])
for what, n in {"key_length": K1 + 3, "key_name": K1 + 8 + 5, "value_type": K1 + 8 + 12 + 2,
                "string_value": K1 + 8 + 12 + 4 + 8 + 2}.items():
    assert 0 < n < len(TWO), what
    write("truncated_%s.gguf" % what, TWO[:n])

# ---------------------------------------------------------------- key/values
write("key_length_past_end.gguf", gguf([struct.pack("<Q", 1 << 40) + b"general"], [], n_kv=1))
write("key_empty.gguf", gguf([kv("", U32, 1)], []))
write("key_duplicate.gguf", gguf(BASE_KVS + [kv("general.architecture", STRING, "gpt2")], []))
write("string_past_end.gguf",
      gguf([gstr("general.name") + struct.pack("<IQ", STRING, 1000000) + b"pycode"], []))
write("string_length_huge.gguf",
      gguf([gstr("general.name") + struct.pack("<IQ", STRING, (1 << 64) - 1) + b"pycode"], []))
write("value_type_bad.gguf", gguf([gstr("general.name") + struct.pack("<I", 13) + b"\0" * 8], []))
write("value_type_huge.gguf", gguf([gstr("general.name") + struct.pack("<I", 0xFFFFFFFF) + b"\0" * 8], []))
write("array_elem_type_bad.gguf",
      gguf([gstr("tokenizer.ggml.scores") + struct.pack("<IIQ", ARRAY, 99, 1) + b"\0" * 8], []))
write("array_nested.gguf",
      gguf([gstr("tokenizer.ggml.merges") + struct.pack("<IIQ", ARRAY, ARRAY, 1) + struct.pack("<IQ", U8, 1) + b"\1"],
           []))
write("array_length_past_end.gguf",
      gguf([gstr("tokenizer.ggml.token_type") + struct.pack("<IIQ", ARRAY, I32, 1 << 40) + b"\1\0\0\0"], []))
write("array_length_wraps.gguf",  # 2^62 I32 elements: 2^64 bytes wraps to 0 in a naive size check
      gguf([gstr("tokenizer.ggml.token_type") + struct.pack("<IIQ", ARRAY, I32, 1 << 62) + b"\1\0\0\0"], []))
write("string_array_count_huge.gguf",
      gguf([gstr("tokenizer.ggml.tokens") + struct.pack("<IIQ", ARRAY, STRING, 1 << 61) + gstr("a")], []))
write("string_array_element_past_end.gguf",
      gguf([gstr("tokenizer.ggml.tokens") + struct.pack("<IIQ", ARRAY, STRING, 2) + gstr("a") +
            struct.pack("<Q", 1 << 33) + b"bc"], []))
write("bool_bad.gguf", gguf([gstr("tokenizer.ggml.add_bos_token") + struct.pack("<IB", BOOL, 2)], []))
write("bool_array_bad.gguf", gguf([kv("flags", ARRAY, (BOOL, [1, 0, 7]))], []))
write("alignment_zero.gguf", gguf([kv("general.alignment", U32, 0)], base_infos(), BASE_DATA))
write("alignment_not_power_of_two.gguf", gguf([kv("general.alignment", U32, 48)], base_infos(), BASE_DATA, alignment=48))
write("alignment_huge.gguf", gguf([kv("general.alignment", U32, 1 << 31)], base_infos(), b""))
write("alignment_wrong_type.gguf", gguf([kv("general.alignment", U64, 32)], base_infos(), BASE_DATA))

# ---------------------------------------------------------------- tensor infos
write("tensor_duplicate.gguf", gguf(BASE_KVS, base_infos(w=("a", [32, 2], T_Q4_0, 32)), BASE_DATA))
write("tensor_name_too_long.gguf", gguf([], [tinfo("blk.0." + "x" * 58, [4], T_F32, 0)], f32s(1, 2, 3, 4)))
write("tensor_name_past_end.gguf", gguf([], [struct.pack("<Q", 1 << 50) + b"blk"], n_tensors=1))
write("rank_zero.gguf", gguf([], [tinfo("s", [], T_F32, 0)], f32s(1)))
write("rank_5.gguf", gguf([], [tinfo("r", [1, 1, 1, 1, 4], T_F32, 0)], f32s(1, 2, 3, 4)))
write("rank_huge.gguf", gguf([], [gstr("r") + struct.pack("<I", 0xFFFFFFFF) + b"\0" * 40], f32s(1)))
write("dim_negative.gguf", gguf([], [tinfo("t", [4, -2], T_F32, 0)], f32s(1, 2, 3, 4)))
write("dims_overflow.gguf", gguf([], [tinfo("t", [1 << 32, 1 << 32, 4], T_F32, 0)], f32s(1, 2, 3, 4)))
write("bytes_overflow.gguf", gguf([], [tinfo("t", [1 << 31, 1 << 31], T_F64, 0)], f32s(1, 2, 3, 4)))
write("type_unknown.gguf", gguf([], [tinfo("blk.0.attn_q.weight", [32, 2], 99, 0)], Q4_0_ROWS))
write("type_huge.gguf", gguf([], [tinfo("blk.0.attn_q.weight", [32, 2], 0xFFFFFFFF, 0)], Q4_0_ROWS))
write("type_iq2_xxs.gguf", gguf([], [tinfo("blk.0.attn_q.weight", [256, 2], T_IQ2_XXS, 0)], b"\0" * 132))
write("type_removed_q4_2.gguf", gguf([], [tinfo("blk.0.attn_q.weight", [32, 2], T_Q4_2, 0)], Q4_0_ROWS))
write("type_block_mismatch.gguf", gguf([], [tinfo("blk.0.ffn_down.weight", [32, 2], T_Q4_K, 0)], b"\0" * 288))

# ---------------------------------------------------------------- tensor data
write("offset_misaligned.gguf", gguf(BASE_KVS, base_infos(w=("w", [32, 2], T_Q4_0, 36)), BASE_DATA + b"\0" * 8))
write("offset_past_end.gguf", gguf(BASE_KVS, base_infos(w=("w", [32, 2], T_Q4_0, 1 << 40)), BASE_DATA))
write("offset_wraps.gguf", gguf(BASE_KVS, base_infos(w=("w", [32, 2], T_Q4_0, (1 << 64) - 32)), BASE_DATA))
write("tensor_past_end.gguf", gguf(BASE_KVS, base_infos(w=("w", [32, 4], T_Q4_0, 32)), BASE_DATA))
write("overlap_same_offset.gguf", gguf(BASE_KVS, base_infos(w=("w", [32, 2], T_Q4_0, 0)), BASE_DATA))
write("overlap_partial.gguf", gguf([], [tinfo("a", [16], T_F32, 0), tinfo("b", [8], T_F32, 32)], f32s(*range(24))))
assert PADDING >= 4, PADDING  # so that cutting 3 bytes leaves the tensor infos whole
write("data_section_past_end.gguf", gguf(BASE_KVS, base_infos(), b"")[:-3])
