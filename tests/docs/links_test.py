#!/usr/bin/python3
"""The README and docs/ link only to files in the repository.

    links_test.py SOURCE_DIR

Every Markdown link target in README.md and docs/*.md that is not a web
address or an anchor must be a relative path to a file or folder inside
the repository (no absolute paths, nothing above its root, such as
../shared/spec.md). Exit 1 listing every bad link.
"""
import glob
import os
import re
import sys

# Written by another tool, not by hand: a link to one is allowed while the
# file has not been generated in this tree yet (it is said, not hidden).
GENERATED = {"docs/stages.md"}


def main(src):
    src = os.path.realpath(src)
    bad, checked = [], 0
    for md in [os.path.join(src, "README.md")] + sorted(glob.glob(os.path.join(src, "docs", "*.md"))):
        text = open(md, encoding="utf-8").read()
        # Fenced code is not prose: its brackets are not links.
        text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
        for m in re.finditer(r"\]\(([^)\s]+)\)", text):
            target = m.group(1)
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            where = f"{os.path.relpath(md, src)}: ({target})"
            checked += 1
            if target.startswith("/"):
                bad.append(f"{where}: an absolute path")
                continue
            path = os.path.realpath(os.path.join(os.path.dirname(md), target.split("#")[0]))
            rel = os.path.relpath(path, src)
            if rel.startswith(".."):
                bad.append(f"{where}: outside the repository")
            elif not os.path.exists(path):
                if rel in GENERATED:
                    print(f"note: {where}: {rel} is generated and not present in this tree yet")
                else:
                    bad.append(f"{where}: no such file")
    assert checked > 10, f"only {checked} links found: is the pattern still right?"
    if bad:
        sys.exit("bad links:\n  " + "\n  ".join(bad))
    print(f"{checked} links, all inside the repository")


if __name__ == "__main__":
    main(sys.argv[1])
