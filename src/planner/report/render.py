"""The report on paper: one self-contained HTML file, and an A4 PDF with the same content."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

from planner.report.document import Report, text
from planner.version import planner_version


def to_html(r: Report) -> str:
    """One self-contained HTML file: images inline, no scripts, prints cleanly."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("planner", "data"), autoescape=select_autoescape(["html", "j2"])
    )
    images = {k: base64.b64encode(v).decode("ascii") for k, v in r.images.items()}
    return env.get_template("report.html.j2").render(
        r=r, t=text(r.lang), images=images, generator=generator()
    )


def generator() -> str:
    """What a report says wrote it (HTML generator, PDF Creator): marks the file as planner's,
    so ``planner report`` replaces it and nothing else."""
    from planner.store.files import REPORT_GENERATOR

    return f"{REPORT_GENERATOR} {planner_version()}"


# -- PDF --------------------------------------------------------------------------------------


def _font() -> str:
    """DejaVu Sans from matplotlib's own files: every Norwegian letter and dash prints."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "DejaVu" not in pdfmetrics.getRegisteredFontNames():
        fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
        pdfmetrics.registerFont(TTFont("DejaVu", str(fonts / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(fonts / "DejaVuSans-Bold.ttf")))
    return "DejaVu"


def write_pdf(r: Report, path: Path) -> None:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        Image,
        KeepTogether,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    font = _font()
    t = text(r.lang)
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=13)
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5)
    h1 = ParagraphStyle("h1", parent=body, fontName=f"{font}-Bold", fontSize=17, leading=21)
    h2 = ParagraphStyle(
        "h2", parent=body, fontName=f"{font}-Bold", fontSize=12, leading=16, spaceBefore=8
    )
    width = A4[0] - 36 * mm

    def para(s: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(html.escape(s), style)

    def image(key: str, max_h: float) -> Image:
        data = r.images[key]
        img = Image(io.BytesIO(data))
        scale = min(width / img.drawWidth, max_h / img.drawHeight)
        img.drawWidth, img.drawHeight = img.drawWidth * scale, img.drawHeight * scale
        return img

    def table(
        rows: Sequence[tuple[str, ...]], widths: list[float], header: tuple[str, ...]
    ) -> Table:
        style = small if len(rows) > 20 else body
        data = [[para(c, style) for c in header]] + [[para(c, style) for c in row] for row in rows]
        tab = Table(data, colWidths=widths, repeatRows=1)
        tab.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dfe7f2")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#bbbbbb")),
                    ("TOPPADDING", (0, 0), (-1, -1), 2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        return tab

    box = Table(
        [[para(t["decision_title"], h2)]]
        + [[para(f"• {line}")] for line in r.decision]
        + [[para(f"{t['decision_glossary']}. " + " ".join(r.glossary), small)]],
        colWidths=[width],
    )
    box.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1.2, colors.HexColor("#1f3f8f")),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    story: list[Any] = [
        para(r.title, h1),
        para(r.subtitle, small),
        Spacer(1, 3 * mm),
        box,
        Spacer(1, 3 * mm),
        para(r.summary),
        Spacer(1, 3 * mm),
        para(t["headline"], h2),
        table(
            r.headline_rows,
            [0.46 * width, 0.32 * width, 0.22 * width],
            (t["figure"], "", t["interval"]),
        ),
        PageBreak(),
        image("map", 150 * mm) if "map" in r.images else para(t["map_none"]),
    ]
    if "frontier" in r.images:  # a section only when there is a frontier to show
        story += [para(t["frontier_title"], h2), image("frontier", 80 * mm)]
    story += [
        PageBreak(),
        image("tornado", 120 * mm),
        para(t["tornado_guide"], small),
        Spacer(1, 3 * mm),
        KeepTogether([image("psa", 60 * mm), para(t["psa_guide"], small), para(r.psa_text)]),
        PageBreak(),
        para(t["assumptions"], h2),
    ]
    if r.notes["sources_note"]:
        story.append(para(r.notes["sources_note"], small))
    story += [
        table(
            r.assumptions,
            [0.3 * width, 0.22 * width, 0.48 * width],
            (t["parameter"], t["value"], t["source"]),
        ),
        para(t["ranges"], h2),
        table(
            r.range_rows,
            [0.3 * width, 0.22 * width, 0.48 * width],
            (t["parameter"], t["value"], t["source"]),
        ),
        para(t["limits"], h2),
        *[para(f"• {lim}") for lim in r.limits],
        Spacer(1, 4 * mm),
        para(r.notes["footer"], small),
    ]

    def page_number(canvas: Any, doc: Any) -> None:
        canvas.setFont(font, 7)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"{doc.page}")

    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=r.title,
        author="planner",
        creator=generator(),
        lang=r.lang,
    )
    doc.build(story, onFirstPage=page_number, onLaterPages=page_number)
