#!/usr/bin/env python3
"""Generate Fixtures/site/screening/: the pages protected-class screening must read
(DESIGN §23, issue 26 routes 3 and 4), one content kind or coding each.

Run from anywhere:  python3 Fixtures/tools/generate_screening_files.py
Standard library only; deterministic (gzip mtime 0, fixed compression levels).

Each page carries protected-class terms in a place older screening never read.
Served as static files (Content-Type by extension) or, for the codings and the
missing Content-Type, by the fixture server's /test/screening/<name> route:

  notes.txt                   text/plain                 "veterans" (veteran-status)
  data.json                   application/json           "parish" (religion); "pregnant" written as \\u0070regnant
  markup-only.html            text/html                  terms only in title, meta description, og:description,
                                                         img alt, aria-label, a title attribute and a comment
  flyer.pdf                   application/pdf            "pregnant" in an uncompressed content stream (needs review)
  no-content-type.html        /test/screening/no-content-type, no Content-Type   "mosque" (religion)
  gzip-twice.html.gz.gz       /test/screening/gzip-twice, Content-Encoding: gzip, gzip   "baby shower" (pregnancy)
  deflate-raw.html.deflate    /test/screening/deflate-raw, Content-Encoding: deflate (raw, no zlib wrapper)   "wheelchair" (disability)
  zstd.html.zst               /test/screening/zstd, Content-Encoding: zstd (one raw block)   "synagogue" (needs review)
"""

import gzip
import os
import struct
import zlib

OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "site", "screening"))

FILLER = ("The Riverbend Courier's community board lists bake sales, lost bicycles and the "
          "library's summer reading hours. ") * 6


def page(title, sentence):
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\n"
            f"<body><h1>{title}</h1>\n<p>{FILLER}</p>\n<p>{sentence}</p>\n<p>{FILLER}</p>\n</body></html>\n").encode()


def zstd_raw_frame(data):
    """A zstd frame (RFC 8878) holding `data` in one raw block: valid zstd, no compression."""
    assert len(data) < 1 << 16
    descriptor = 0x60  # Frame_Content_Size_Flag = 1 (2 bytes, value - 256), Single_Segment_Flag = 1
    header = b"\x28\xb5\x2f\xfd" + bytes([descriptor]) + struct.pack("<H", len(data) - 256)
    block = struct.pack("<I", (len(data) << 3) | 1)[:3]  # Last_Block = 1, Block_Type = Raw
    return header + block + data


def files():
    yield "notes.txt", (
        "Shift notes, week 12\n\n"
        "Covered the Saturday desk. In the evening I helped at the veterans hall fundraiser,\n"
        "then drove home past the river.\n").encode()
    yield "data.json", (
        '{"handle": "casey_ardmore", "bio": "Sings in the parish choir on weekends",\n'
        ' "status": "\\u0070regnant and counting the days", "followers": 412}\n').encode()
    yield "markup-only.html", (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
        "<title>Jane Roe \u2013 pregnant and proud</title>\n"
        "<meta name=\"description\" content=\"Notes from the synagogue book club\">\n"
        "<meta property=\"og:description\" content=\"My new wheelchair ramp is finished\">\n"
        "</head>\n<body>\n<h1>Weekend photos</h1>\n"
        "<!-- draft: mention that I am an immigrant from overseas -->\n"
        "<p>Photos from the riverside walk.</p>\n"
        "<img src=\"/media/photo-small.png\" alt=\"Me in my veteran cap at the parade\">\n"
        "<button aria-label=\"Share my transgender story\">Share</button>\n"
        "<a href=\"/article.html\" title=\"Our lesbian book circle\">Reading list</a>\n"
        "</body></html>\n").encode()
    stream = b"BT /F1 18 Tf 72 720 Td (Baby news: I am pregnant!) Tj ET\n"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        pdf += b"%010d 00000 n \n" % offset
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    yield "flyer.pdf", bytes(pdf)
    yield "no-content-type.html", page("Neighbourhood notes", "Saturday is the open day at the mosque on Elm Street.")
    html = page("Family news", "Everyone is invited to the baby shower next month.")
    yield "gzip-twice.html.gz.gz", gzip.compress(gzip.compress(html, compresslevel=9, mtime=0), compresslevel=9, mtime=0)
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    yield "deflate-raw.html.deflate", deflater.compress(
        page("Accessibility", "The new wheelchair ramp at the community centre opens on Monday.")) + deflater.flush()
    yield "zstd.html.zst", zstd_raw_frame(page("Weekend", "We met at the synagogue for the concert."))


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in files():
        with open(os.path.join(OUT, name), "wb") as handle:
            handle.write(data)
        print(f"wrote site/screening/{name} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
