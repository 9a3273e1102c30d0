#!/usr/bin/env python3
"""Generate the binary and non-UTF-8 files of Fixtures/site/.

Run from anywhere:  python3 Fixtures/tools/generate_site_files.py
Standard library only. The output is deterministic: running it again gives the
same bytes, so the committed files and the digests in Fixtures/README.md stay valid.

Writes:
  site/media/banner.png       480x160 RGB PNG
  site/media/avatar.png        64x64  RGB PNG
  site/media/photo-small.png  160x100 RGB PNG
  site/media/photo-large.png  320x200 RGB PNG
  site/media/clip.mp4         ftyp + free + mdat boxes (served as video/mp4; not playable)
  site/media/sound.mp3        ID3v2.4 tag + silent MPEG-1 Layer III frames (playable silence)
  site/legacy-1252.html       HTML encoded in windows-1252 (real 0x80, 0x93, 0x94 ... bytes)
"""

import hashlib
import os
import struct
import sys
import zlib

SITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "site")
SITE = os.path.normpath(SITE)


# --- PNG ---------------------------------------------------------------------

def png(width, height, pixel):
    """Encode an 8-bit RGB PNG; pixel(x, y) returns an (r, g, b) tuple."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    raw = bytearray()
    for y in range(height):
        raw.append(0)  # filter type None
        for x in range(width):
            raw.extend(pixel(x, y))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b""))


def banner(x, y):
    # Blue-to-teal gradient with a darker band where a title would sit.
    r = 20 + x * 40 // 480
    g = 60 + x * 120 // 480
    b = 140 + y * 80 // 160
    if 60 <= y < 100:
        r, g, b = r // 2, g // 2, b // 2
    return (r, g, b)


def avatar(x, y):
    # Orange disc (the food truck) on a light grey background.
    dx, dy = x - 31.5, y - 31.5
    if dx * dx + dy * dy <= 26 * 26:
        return (235, 120, 30) if dy < 8 else (90, 50, 20)
    return (230, 230, 230)


def scene(width, height):
    def pixel(x, y):
        horizon = height * 3 // 5
        if y < horizon:  # evening sky
            t = y * 255 // horizon
            return (40 + t // 3, 30 + t // 4, 90 + t // 2)
        # ground with a row of "trucks"
        if y < horizon + height // 6 and (x * 8 // width) % 2 == 0:
            return (200, 90 + (x * 100 // width), 40)
        return (50, 90, 45)
    return pixel


# --- MP4 ---------------------------------------------------------------------

def box(kind, payload):
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4():
    ftyp = box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41")
    free = box(b"free", b"Exhibit test fixture: not a playable video.\n")
    # Deterministic filler so the file is a few KB, like a real (tiny) clip.
    filler = bytearray()
    seed = 0x2545F491
    while len(filler) < 4096:
        seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
        filler.append((seed >> 16) & 0xFF)
    return ftyp + free + box(b"mdat", bytes(filler))


# --- MP3 ---------------------------------------------------------------------

def syncsafe(n):
    return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])


def id3_text_frame(frame_id, text):
    data = b"\x03" + text.encode("utf-8")  # encoding 3 = UTF-8 (ID3v2.4)
    return frame_id + syncsafe(len(data)) + b"\x00\x00" + data


def mp3():
    frames = (id3_text_frame(b"TIT2", "Night market brass band")
              + id3_text_frame(b"TPE1", "Riverbend Courier")
              + id3_text_frame(b"TDRC", "2026"))
    tag = b"ID3" + b"\x04\x00" + b"\x00" + syncsafe(len(frames)) + frames
    # MPEG-1 Layer III, no CRC, 128 kbit/s, 44.1 kHz, no padding, mono, original.
    # Frame length = 144 * 128000 / 44100 = 417 bytes; all-zero side information
    # and main data decode as silence.
    header = bytes([0xFF, 0xFB, 0x90, 0xC4])
    frame = header + bytes(417 - len(header))
    return tag + frame * 10


# --- windows-1252 page -------------------------------------------------------

LEGACY = """<!DOCTYPE html>
<html lang="de">
<head>
<meta charset="windows-1252">
<title>Café Müller’s “Spring” menu — €5 specials</title>
<meta name="description" content="Archive, 1998: Café Müller’s spring menu – crêpes, Spätzle and €5 lunch specials.">
<meta property="article:published_time" content="1998-04-02T12:00:00-06:00">
</head>
<body>
<h1>Café Müller’s “Spring” menu — €5 specials</h1>
<p>From the Courier archive (April 2, 1998): Zoë Müller opened her café on Main Street
   with crêpes, Spätzle, jalapeño poppers and a crème brûlée “that tastes like Paris”.</p>
<p>Lunch specials cost €5 (or $6) – soup, salad and coffee… Open Monday–Saturday,
   8 a.m. to 3 p.m. The façade was repainted in Müller’s favourite colour, “Würzburg red”.</p>
<p>Reservations: reservations@example.com or (972) 555-0110.</p>
<p>© 1998 Riverbend Courier · ½ price on Fridays · 25° outside · Señor Ñandú says ¡Hola!</p>
<p><a href="/">Back to today’s Courier</a></p>
</body>
</html>
"""


def main():
    outputs = {
        "media/banner.png": png(480, 160, banner),
        "media/avatar.png": png(64, 64, avatar),
        "media/photo-small.png": png(160, 100, scene(160, 100)),
        "media/photo-large.png": png(320, 200, scene(320, 200)),
        "media/clip.mp4": mp4(),
        "media/sound.mp3": mp3(),
        # strict: fails rather than write a character windows-1252 lacks.
        "legacy-1252.html": LEGACY.encode("cp1252", errors="strict"),
    }
    for rel, data in outputs.items():
        path = os.path.join(SITE, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        print(f"{hashlib.sha256(data).hexdigest()}  {len(data):6d}  {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
