"""Excel templates and the documentation table, generated from the contract."""

from __future__ import annotations

from pathlib import Path

from workbench.inputs.contract import CONFIG_KEYS, TABLES, Table
from workbench.errors import WorkbenchError
from workbench.paths import DATA, INSTALLED, TEMPLATES

__all__ = ["contract_markdown", "write_templates", "write_template"]

BEGIN, END = "<!-- contratto:inizio -->", "<!-- contratto:fine -->"


def contract_markdown() -> str:
    """The contract as Markdown tables (Italian, for technicians)."""
    parts = ["### distretto.toml", "", "| voce | obbligatoria | descrizione | esempio |", "|---|---|---|---|"]
    parts += [f"| `{k.name}` | {'sì' if k.required else 'no'} | {k.doc} | `{k.example}` |" for k in CONFIG_KEYS]
    for table in TABLES.values():
        parts += ["", f"### {table.name} ({'obbligatoria' if table.required else 'facoltativa'})", "",
                  table.doc + (f" Chiave: {', '.join(table.key)} (una riga per combinazione)." if table.key else ""),
                  "", "| colonna | obbligatoria | contenuto | valori ammessi | esempio |", "|---|---|---|---|---|"]
        parts += [f"| `{c.name}` | {'sì' if c.required else 'no'} | {c.doc} | {c.rule} | {c.example} |"
                  for c in table.columns]
    return "\n".join(parts) + "\n"


def _typed(example: str, kind: str):
    """Example cell as Excel would hold it: numbers as numbers, codes as text."""
    if kind in ("count", "integer", "year", "number"):
        value = float(example.replace(".", "").replace(",", "."))
        return int(value) if value.is_integer() else value
    return example


def write_template(table: Table, target, example: bool = True):
    """One workbook: the table's header (with an example row unless ``example`` is false) and a sheet
    explaining each column, saved to ``target`` (a path or a binary file object), which is returned."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = table.name
    sheet.append([c.name for c in table.columns])
    if example:
        sheet.append([_typed(c.example, c.kind) for c in table.columns])
    for cell in sheet[1]:
        cell.font, cell.fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1F4E79")
        for cell in sheet[2]:
            cell.number_format = "@"  # text: keeps leading zeros of ISTAT codes
    else:  # empty template: the ISTAT code columns are text, so Excel keeps the leading zeros typed in
        for i, column in enumerate(table.columns, 1):
            for row in range(2, 501) if column.kind == "istat" else ():
                sheet.cell(row, i).number_format = "@"
    for i, column in enumerate(table.columns, 1):
        sheet.column_dimensions[sheet.cell(1, i).column_letter].width = max(14, len(column.name) + 4)
    guide = book.create_sheet("istruzioni")
    guide.append(["colonna", "obbligatoria", "contenuto", "valori ammessi"])
    for c in table.columns:
        guide.append([c.name, "sì" if c.required else "no", c.doc, c.rule])
    guide.append([])
    guide.append(["Solo dati aggregati: niente nomi di persone, codici fiscali o date di nascita. "
                  "Il primo foglio è quello letto dal workbench"
                  + ("; cancella la riga di esempio." if example else ".")])
    book.save(target)
    return target


def write_templates(folder: Path | None = None) -> list[Path]:
    """Write every Excel template and the contract as Markdown; returns the files written.

    With no ``folder``, in a source checkout: regenerate ``templates/`` and the contract section of
    ``data/README.md`` in place. Otherwise ``folder`` receives the workbooks and ``contratto.md`` (an installed
    package is never written to).
    """
    if folder is None:
        if INSTALLED:
            raise WorkbenchError("Indica dove scrivere i modelli: workbench modelli --out CARTELLA.")
        folder = TEMPLATES
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = [write_template(t, folder / f"{t.name}.xlsx") for t in TABLES.values()]
    if folder == TEMPLATES:
        readme = DATA / "README.md"
        text = readme.read_text(encoding="utf-8")
        start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
        readme.write_text(text[:start] + "\n" + contract_markdown() + text[end:], encoding="utf-8")
        return written + [readme]
    (folder / "contratto.md").write_text("# Contratto dei dati\n\n" + contract_markdown(), encoding="utf-8")
    return written + [folder / "contratto.md"]
