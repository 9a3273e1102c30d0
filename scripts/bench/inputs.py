"""The generated inputs under .bench/www (never committed; reused while their spec is unchanged).

Pages are deterministic (seeded) and read like the pages investigators capture: prose,
navigation, a table, and a few selectors (an e-mail, a phone number, an @handle) so that
page analysis does real work. Binary payloads are random so that nothing compresses them.
"""

import json
import os
import random
import shutil
from pathlib import Path

from common import MIB

# Bump when the generators change so that old inputs are regenerated.
GENERATOR_VERSION = 1

FULL = {"site_a_pages": 500, "site_a_bytes": 20_000, "big_bytes": 1024 * MIB,
        "site_b_pages": 2000, "image_bytes": 125_000, "site_c_pages": 10_000,
        "site_c_bytes": 5_000, "page5mb_bytes": 5_000_000, "scale_sizes": (100, 1000, 10_000),
        "screen_text_bytes": 8_000_000}
QUICK = {"site_a_pages": 40, "site_a_bytes": 20_000, "big_bytes": 64 * MIB,
         "site_b_pages": 40, "image_bytes": 125_000, "site_c_pages": 200,
         "site_c_bytes": 5_000, "page5mb_bytes": 500_000, "scale_sizes": (10, 50, 200),
         "screen_text_bytes": 1_000_000}

WORDS = ("the of and to in a is that for it as was with be by on not he this are or his from at "
         "which but have an they you were her she there one all we their been has when who will more "
         "no if out so said what up its about into than them can only other new some could time these "
         "two may then do first any my now such like our over man me even most made after also did "
         "many before must through back years where much your way well down should because each just "
         "those people how too little state good very make world still own see men work long get here "
         "between both life being under never day same another know while last might us great old year "
         "off come since against go came right used take three witness report vehicle station evening "
         "river bridge market forum profile posted message account photo video parking north street "
         "complaint threat neighbour school bus night morning friday saturday sunday police").split()
FIRST = "jordan sam dana lee alex robin casey morgan taylor jamie riley quinn avery devon".split()
LAST = "avery reyes okafor park nguyen silva novak haddad kowalski moreau lindqvist".split()


def _sentence(rng):
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 20))]
    return " ".join(words).capitalize() + "."


def _paragraph(rng):
    return " ".join(_sentence(rng) for _ in range(rng.randint(3, 6)))


def _selectors(rng, n):
    """One e-mail, one phone number and one @handle, varied per page."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return (f"{first}.{last}{n}@example.org",
            f"+1 972 555 {n % 10000:04d}",
            f"@{first}_{last}{n % 997}")


def _page(rng, n, title, links, target_bytes, extra_body=""):
    """A news-or-forum style page of about target_bytes with the given links."""
    email, phone, handle = _selectors(rng, n)
    head = (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            f"<title>{title}</title>\n"
            f"<meta name=\"description\" content=\"{_sentence(rng)}\">\n"
            f"<meta property=\"og:title\" content=\"{title}\">\n"
            f"<meta name=\"twitter:site\" content=\"{handle}\">\n</head>\n<body>\n"
            f"<header><nav>" + " | ".join(f"<a href=\"{href}\">{text}</a>" for href, text in links)
            + "</nav></header>\n<article>\n"
            f"<h1>{title}</h1>\n<p class=\"byline\">Posted by {handle} — contact {email} "
            f"or call {phone}.</p>\n{extra_body}")
    tail = (f"</article>\n<footer><p>Reported to the forum moderators; tips to {email}.</p>"
            f"</footer>\n</body></html>\n")
    parts = [head]
    size = len(head) + len(tail)
    while size < target_bytes:
        para = f"<p>{_paragraph(rng)}</p>\n"
        parts.append(para)
        size += len(para)
    parts.append(tail)
    return "".join(parts)


def _write_site_a(www, spec):
    """Site A: pages of ~20 KB, each linking to three other pages of the site."""
    count = spec["site_a_pages"]
    folder = www / "a"
    folder.mkdir()
    for n in range(count):
        rng = random.Random(1000 + n)
        links = [(f"/a/p{(n + step) % count:04d}.html", f"Related thread {(n + step) % count}")
                 for step in (1, 7, 31)]
        page = _page(rng, n, f"Forum thread {n}", links, spec["site_a_bytes"])
        (folder / f"p{n:04d}.html").write_text(page)


def _random_file(path, size, block=MIB):
    """Incompressible bytes, written in blocks so memory stays small."""
    with open(path, "wb") as out:
        left = size
        while left:
            chunk = os.urandom(min(block, left))
            out.write(chunk)
            left -= len(chunk)


def _write_site_b(www, spec):
    """Site B: small pages each embedding one unique random image (~125 KB)."""
    folder = www / "b"
    (folder / "img").mkdir(parents=True)
    for n in range(spec["site_b_pages"]):
        rng = random.Random(2000 + n)
        image = f"/b/img/{n:04d}.jpg"
        body = f"<figure><img src=\"{image}\" alt=\"Photo {n}\"><figcaption>{_sentence(rng)}</figcaption></figure>\n"
        (folder / f"p{n:04d}.html").write_text(
            _page(rng, n, f"Photo post {n}", [("/b/", "Gallery")], 2_000, body))
        # A JPEG signature in front of random bytes: served and stored as an image.
        with open(folder / "img" / f"{n:04d}.jpg", "wb") as out:
            out.write(b"\xff\xd8\xff\xe0" + os.urandom(spec["image_bytes"] - 4))


def _write_site_c(www, spec):
    """Site C: many small pages (~5 KB) for the scale series."""
    folder = www / "c"
    folder.mkdir()
    count = spec["site_c_pages"]
    for n in range(count):
        rng = random.Random(3000 + n)
        links = [(f"/c/p{(n + 1) % count:05d}.html", "Next")]
        (folder / f"p{n:05d}.html").write_text(
            _page(rng, n, f"Short post {n}", links, spec["site_c_bytes"]))


def _table(rng, n):
    rows = []
    for r in range(10):
        email, phone, handle = _selectors(rng, n * 10 + r)
        cells = [f"Case note {n}.{r}", handle, phone, email, _sentence(rng)]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return ("<table class=\"contacts\"><thead><tr><th>Note</th><th>Handle</th><th>Phone</th>"
            "<th>E-mail</th><th>Remark</th></tr></thead><tbody>\n" + "\n".join(rows)
            + "\n</tbody></table>\n")


def _write_page5mb(www, spec):
    """One big page of nested, realistic markup: sections, columns, lists, tables and links."""
    rng = random.Random(5)
    parts = ["<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             "<title>Archived forum export</title>"
             "<meta property=\"og:title\" content=\"Archived forum export\"></head>\n<body>\n"
             "<div id=\"page\"><main>\n"]
    size, n = len(parts[0]), 0
    while size < spec["page5mb_bytes"]:
        email, phone, handle = _selectors(rng, n)
        section = (f"<section id=\"s{n}\"><h2>Thread {n}</h2>\n<div class=\"row\">"
                   f"<div class=\"col\"><p>{_paragraph(rng)} Contact {email}.</p>"
                   f"<p>{_paragraph(rng)} Call <b>{phone}</b> or message <i>{handle}</i>.</p></div>\n"
                   f"<div class=\"col\"><ul>" + "".join(
                       f"<li><a href=\"/thread/{n}/{k}\">{_sentence(rng)}</a></li>" for k in range(5))
                   + f"</ul><blockquote><p>{_paragraph(rng)}</p></blockquote></div></div>\n"
                   + (_table(rng, n) if n % 4 == 0 else "")
                   + f"<p>See <a href=\"https://social.example.net/{handle[1:]}\">{handle}</a>"
                   f" and <a href=\"mailto:{email}\">{email}</a>.</p></section>\n")
        parts.append(section)
        size += len(section)
        n += 1
    parts.append("</main></div>\n</body></html>\n")
    (www / "page5mb.html").write_text("".join(parts))


# Decoded social-media text for screening: what a captured page's visible text looks like
# once extracted, mostly English with the non-ASCII a real page has (curly quotes, dashes,
# accented Spanish, emoji), hashtags, and now and then a word a lexicon flags.
SCREEN_EXTRAS = ("“Great day!”", "it’s", "— honestly", "mañana", "la reunión", "café con leche", "😀", "🙏🏽",
                 "#weekend", "#FridayNight", "#tbt", "Zoë", "naïve")
SCREEN_TERMS = ("church", "veteran", "pregnant", "Muslims", "#pregnantlife", "my grandmother", "army")


def _write_screen_text(www, spec):
    """screen.txt: about screen_text_bytes of decoded text (see SCREEN_EXTRAS)."""
    rng = random.Random(26)
    parts, size = [], 0
    while size < spec["screen_text_bytes"]:
        words = [rng.choice(WORDS) for _ in range(rng.randint(8, 20))]
        if rng.random() < 0.5:
            words.insert(rng.randrange(len(words)), rng.choice(SCREEN_EXTRAS))
        if rng.random() < 0.05:
            words.insert(rng.randrange(len(words)), rng.choice(SCREEN_TERMS))
        line = " ".join(words).capitalize() + (".\n" if rng.random() < 0.3 else ". ")
        parts.append(line)
        size += len(line.encode())
    (www / "screen.txt").write_text("".join(parts), encoding="utf-8")


# name -> (spec keys it depends on, writer, path(s) it creates relative to www)
GENERATORS = {
    "site-a": (("site_a_pages", "site_a_bytes"), _write_site_a, "a"),
    "big": (("big_bytes",), lambda www, s: _random_file(www / "big.bin", s["big_bytes"]), "big.bin"),
    "site-b": (("site_b_pages", "image_bytes"), _write_site_b, "b"),
    "site-c": (("site_c_pages", "site_c_bytes"), _write_site_c, "c"),
    "page5mb": (("page5mb_bytes",), _write_page5mb, "page5mb.html"),
    "screen-text": (("screen_text_bytes",), _write_screen_text, "screen.txt"),
}


def ensure_inputs(root, quick, log):
    """Generate whatever input is missing or stale; return (www folder, sizes used)."""
    spec = QUICK if quick else FULL
    www, specs = root / "www", root / "specs"
    www.mkdir(parents=True, exist_ok=True)
    specs.mkdir(parents=True, exist_ok=True)
    for name, (keys, writer, made) in GENERATORS.items():
        wanted = json.dumps({"version": GENERATOR_VERSION, **{k: spec[k] for k in keys}}, sort_keys=True)
        stamp, target = specs / f"{name}.json", www / made
        if stamp.exists() and stamp.read_text() == wanted and target.exists():
            continue
        log(f"generating {name} …")
        stamp.unlink(missing_ok=True)
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
        writer(www, spec)
        # The stamp is written last, so an interrupted generation is redone next time.
        stamp.write_text(wanted)
    return www, spec
