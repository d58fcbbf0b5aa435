#!/usr/bin/env python3
"""Known-answer vectors for Hardening.Auth's password pre-hash and stored format, computed without the C# code.

Run from this folder: python3 prehash_kat.py > prehash_kat.tsv

pre-hash  = base64(HMAC-SHA384(key, UTF-8(NFKC(password))))        (64 ASCII characters)
            - NFKC only when the password is well-formed UTF-16; with an unpaired surrogate it is used as is and each
              unpaired surrogate is written as its own 3-byte sequence (WTF-8; Python's 'surrogatepass')
            - key = the pepper's UTF-8, or the public domain key when no pepper is configured
$hbcrypt$ = bcrypt $2b$ (libxcrypt, via ctypes) of the 64 pre-hash bytes; salt and 23-byte digest in unpadded
            standard base64: $hbcrypt$v=1$c=<cost>[,k=<pepper id>]$<salt>$<digest>
$hpbkdf2-sha512$ = PBKDF2-HMAC-SHA512(pre-hash bytes, salt, iterations, 32 bytes), same layout with i=<iterations>

Columns: name, password as UTF-16 code units (hex, space-separated; '-' for empty), pepper id ('-' = none),
pre-hash, stored hash.
"""
import base64
import ctypes
import hashlib
import hmac
import unicodedata

DOMAIN_KEY = b"Hardening.Auth.Passwords/v1 no pepper configured"
PEPPERS = {"kat": "kat-pepper-0123456789abcdef"}
SALT = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
SALT2 = bytes.fromhex("f0e1d2c3b4a5968778695a4b3c2d1e0f")
BCRYPT64 = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
STD64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

libcrypt = ctypes.CDLL("libcrypt.so.1")
libcrypt.crypt.restype = ctypes.c_char_p
libcrypt.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]


def units_to_str(units):
    raw = b"".join(u.to_bytes(2, "big") for u in units)
    return raw.decode("utf-16-be", "surrogatepass")


def str_to_units(s):
    raw = s.encode("utf-16-be", "surrogatepass")
    return [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)]


def well_formed(s):
    return not any(0xD800 <= ord(c) <= 0xDFFF for c in s)


def prehash(password, key):
    text = unicodedata.normalize("NFKC", password) if well_formed(password) else password
    mac = hmac.new(key, text.encode("utf-8", "surrogatepass"), hashlib.sha384).digest()
    return base64.b64encode(mac)


def phc64(data):
    return base64.b64encode(data).decode().rstrip("=")


def bcrypt64_encode(data):
    out, bits, nbits = [], 0, 0
    for b in data:
        bits, nbits = (bits << 8) | b, nbits + 8
        while nbits >= 6:
            nbits -= 6
            out.append(BCRYPT64[(bits >> nbits) & 63])
    if nbits:
        out.append(BCRYPT64[(bits << (6 - nbits)) & 63])
    return "".join(out)


def bcrypt64_decode(text, size):
    bits, nbits, out = 0, 0, bytearray()
    for c in text:
        bits, nbits = (bits << 6) | BCRYPT64.index(c), nbits + 6
        if nbits >= 8:
            nbits -= 8
            out.append((bits >> nbits) & 255)
    return bytes(out[:size])


def hbcrypt(pre, cost, salt, pepper_id):
    setting = "$2b$%02d$%s" % (cost, bcrypt64_encode(salt))
    result = libcrypt.crypt(pre, setting.encode()).decode()
    assert result.startswith(setting), result
    digest = bcrypt64_decode(result[29:], 23)
    params = "c=%d" % cost + (",k=" + pepper_id if pepper_id else "")
    return "$hbcrypt$v=1$%s$%s$%s" % (params, phc64(salt), phc64(digest))


def hpbkdf2(pre, iterations, salt, pepper_id):
    digest = hashlib.pbkdf2_hmac("sha512", pre, salt, iterations, 32)
    params = "i=%d" % iterations + (",k=" + pepper_id if pepper_id else "")
    return "$hpbkdf2-sha512$v=1$%s$%s$%s" % (params, phc64(salt), phc64(digest))


CASES = [
    ("empty", ""),
    ("ascii", "password"),
    ("nul inside", "a\u0000b"),
    ("2-byte lowest U+0080", "\u0080"),
    ("2-byte e-acute", "\u00e9"),
    ("2-byte y-diaeresis U+00FF", "\u00ff"),
    ("2-byte U+0100", "\u0100"),
    ("2-byte highest U+07FF", "\u07ff"),
    ("2-byte word", "p\u00e4ssw\u00f6rd"),
    ("3-byte lowest U+0800", "\u0800"),
    ("3-byte euro", "\u20ac"),
    ("3-byte CJK", "\u5bc6\u7801"),
    ("3-byte U+D7FF", "\ud7ff"),
    ("3-byte private use U+E000", "\ue000"),
    ("3-byte replacement U+FFFD", "\ufffd"),
    ("3-byte highest U+FFFF", "\uffff"),
    ("4-byte lowest U+10000", "\U00010000"),
    ("4-byte key emoji", "\U0001f511 key"),
    ("4-byte highest U+10FFFF", "\U0010ffff"),
    ("mixed 1-2-3-4 bytes", "a\u00e9\u20ac\U0001f511"),
    ("lone high surrogate", None),
    ("lone low surrogate", None),
    ("lone high at end", None),
    ("reversed pair", None),
    ("pair then lone", None),
    ("ligature stays unnormalised beside a lone surrogate", None),
    ("NFKC ligature fi", "\ufb01"),
    ("NFKC fullwidth A", "\uff21"),
    ("NFKC combining acute composes", "e\u0301"),
    ("NFKC angstrom sign", "\u212b"),
    ("NFKC circled one", "\u2460"),
    ("NFKC halfwidth katakana", "\uff76"),
    ("NFKC hangul jamo compose", "\u1100\u1161"),
    ("NFKC superscript two", "x\u00b2"),
    ("NFKC no-break space", "a\u00a0b"),
    ("long 2-byte (rented buffer)", "\u00e9" * 200),
    ("long 4-byte (rented buffer)", "\U0001f511" * 150),
]

LONE = {
    "lone high surrogate": [0xD800],
    "lone low surrogate": [0x0061, 0xDC00, 0x0062],
    "lone high at end": [0x0061, 0xDBFF],
    "reversed pair": [0xDC00, 0xD800],
    "pair then lone": [0xD83D, 0xDD11, 0xD800],
    "ligature stays unnormalised beside a lone surrogate": [0xFB01, 0xDFFF],
}


def main():
    print("# generated by prehash_kat.py (Python %s, Unicode %s); do not edit" % (
        __import__("sys").version.split()[0], unicodedata.unidata_version))
    print("# name\tutf16\tpepper_id\tprehash\tstored_hash")
    for n, (name, text) in enumerate(CASES):
        units = LONE[name] if text is None else str_to_units(text)
        password = units_to_str(units)
        units_hex = " ".join("%04X" % u for u in units) or "-"
        for pepper_id in (None, "kat"):
            key = PEPPERS[pepper_id].encode() if pepper_id else DOMAIN_KEY
            pre = prehash(password, key)
            salt = SALT if n % 2 == 0 else SALT2
            if name in ("ascii", "2-byte word", "lone high surrogate") and pepper_id:
                stored = hpbkdf2(pre, 210000, salt, pepper_id)
            else:
                stored = hbcrypt(pre, 4, salt, pepper_id)
            print("\t".join([name, units_hex, pepper_id or "-", pre.decode(), stored]))


if __name__ == "__main__":
    main()
