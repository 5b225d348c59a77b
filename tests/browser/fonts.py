"""The fonts Chromium draws the pages with in the browser tests: these only, whatever else the machine
has, so that text measures and screenshots are the same on every machine (`make install` installs
the packages: the Makefile's FONT_PACKAGES).

Chromium finds fonts through fontconfig; FONTCONFIG_FILE pointing at a configuration that lists only
these folders, with the generic families bound to them, is the whole mechanism.
"""

from __future__ import annotations

from pathlib import Path

#: Folders of the font packages, and what each covers.
FOLDERS = {
    "/usr/share/fonts/truetype/dejavu": "Latin, Greek, Cyrillic, Arabic, Hebrew (fonts-dejavu-core)",
    "/usr/share/fonts/truetype/liberation": "Arial-compatible metrics (fonts-liberation)",
    "/usr/share/fonts/truetype/wqy": "Chinese, Japanese, Korean (fonts-wqy-microhei)",
    "/usr/share/fonts/truetype/noto": "emoji (fonts-noto-color-emoji)",
}
FAMILIES = {
    "sans-serif": ["DejaVu Sans", "WenQuanYi Micro Hei", "Noto Color Emoji"],
    "system-ui": ["DejaVu Sans", "WenQuanYi Micro Hei", "Noto Color Emoji"],
    "serif": ["DejaVu Serif", "WenQuanYi Micro Hei", "Noto Color Emoji"],
    "monospace": ["DejaVu Sans Mono", "WenQuanYi Micro Hei", "Noto Color Emoji"],
}


def missing() -> list[str]:
    """The font folders that are not on this machine (empty when all are)."""
    return [f"{folder} ({what})" for folder, what in FOLDERS.items() if not Path(folder).is_dir()]


def fontconfig_file(folder: Path) -> Path:
    """Write a fontconfig configuration of only these fonts into `folder`; its path."""
    aliases = "".join(
        f'<alias binding="strong"><family>{name}</family><prefer>'
        + "".join(f"<family>{family}</family>" for family in prefer)
        + "</prefer></alias>"
        for name, prefer in FAMILIES.items()
    )
    dirs = "".join(f"<dir>{path}</dir>" for path in FOLDERS)
    config = folder / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"{dirs}<cachedir>{folder / 'cache'}</cachedir>"
        # A family that names no generic one falls back to sans-serif (fontconfig's 49-sansserif.conf).
        '<match target="pattern">'
        + "".join(
            f'<test qual="all" name="family" compare="not_eq"><string>{generic}</string></test>'
            for generic in ("sans-serif", "serif", "monospace")
        )
        + '<edit name="family" mode="append_last"><string>sans-serif</string></edit></match>'
        f"{aliases}"
        # Grey-scale anti-aliasing and slight hinting, as most desktops draw.
        '<match target="font"><edit name="antialias" mode="assign"><bool>true</bool></edit>'
        '<edit name="hinting" mode="assign"><bool>true</bool></edit>'
        '<edit name="hintstyle" mode="assign"><const>hintslight</const></edit>'
        '<edit name="rgba" mode="assign"><const>none</const></edit></match>'
        "</fontconfig>"
    )
    return config
