"""Command line of the trainer: argparse subcommands, user errors printed as one line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inpaint_studio.core.errors import InpaintStudioError


def _add_fetch(sub: argparse._SubParsersAction) -> None:
    from trainer.photos import DEFAULT_MANIFEST

    p = sub.add_parser(
        "fetch-photos",
        help="assemble the offline photo set from pinned Debian packages",
        description="Download the Debian packages listed in the manifest (apt-get download), unpack them "
        "(dpkg -x), read Qt .rcc entries, check sha256, shrink and save under the cache's photos/{train,val}/. "
        "Run `apt-get update` first if apt cannot find the pinned versions. Idempotent.",
    )
    p.add_argument("--dest", type=Path, default=None, help="output folder (default: user cache dir/photos)")
    p.add_argument("--short-side", type=int, default=512, help="shrink so the short side is N px (never upscales)")
    p.add_argument("--split", choices=("train", "val", "all"), default="all")
    p.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST, help="photos.tsv (default: %(default)s)")
    p.add_argument("--download-cache", type=Path, default=None, help="where .deb files are kept")
    p.set_defaults(func=_run_fetch)


def _run_fetch(args: argparse.Namespace) -> int:
    from trainer.photos import fetch_photos

    report = fetch_photos(
        args.dest, short_side=args.short_side, split=args.split, manifest=args.manifest,
        download_cache=args.download_cache,
    )
    return 1 if report.mismatched or report.missing else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m trainer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_fetch(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InpaintStudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
