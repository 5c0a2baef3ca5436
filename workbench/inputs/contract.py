"""The district workspace contract: tables, columns, types and rules, defined once.

Validation (``workbench.inputs.validation``), the Excel templates and the documentation
table in ``data/README.md`` (``workbench.inputs.templates``) are all generated from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Column", "Table", "TABLES", "CONFIG_KEYS", "AREAS", "MISSING_TOKENS", "INDICATOR_KINDS"]

#: Cell values read as "missing" (case-insensitive, surrounding spaces ignored).
MISSING_TOKENS = ("", "n.d.", "n.d", "nd", "..", "-", "—", "n.a.", "na.")

#: ISTAT user areas of the survey on social services of the comuni.
AREAS = ("famiglia e minori", "disabili", "dipendenze", "anziani", "immigrati",
         "povertà e disagio adulti", "multiutenza")

#: Kinds of indicator (``indicatori_meta.tipo``); empty = a proportion when numerator and denominator are given.
INDICATOR_KINDS = ("proporzione", "rapporto", "conteggio", "indice composito", "altro")

#: Column kinds and their Italian description (for the documentation).
KINDS = {
    "istat": "codice ISTAT, 6 cifre (gli zeri iniziali persi da Excel vengono ripristinati)",
    "text": "testo",
    "count": "numero intero ≥ 0",
    "number": "numero (anche 1.234,5); n.d., .., - o vuoto = dato mancante",
    "year": "anno a quattro cifre",
    "choice": "uno dei valori ammessi",
    "choices": "uno o più valori ammessi separati da |",
    "integer": "numero intero",
}


@dataclass(frozen=True)
class Column:
    """One column of a table."""

    name: str
    kind: str
    doc: str
    example: str = ""
    required: bool = True          # the column must be present
    nullable: bool = False         # cells may be empty / n.d.
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    references: tuple[str, str] | None = None  # (table, column)

    @property
    def rule(self) -> str:
        """Italian description of the accepted values."""
        text = KINDS[self.kind]
        if self.choices:
            text += ": " + ", ".join(self.choices)
        if self.minimum is not None and self.maximum is not None:
            text += f" (da {self.minimum:g} a {self.maximum:g})"
        if self.references:
            text += f"; deve comparire in {self.references[0]}.{self.references[1]}"
        if self.nullable:
            text += "; può mancare"
        return text


@dataclass(frozen=True)
class Table:
    """One table of the workspace (one file: ``NAME.csv`` or ``NAME.xlsx``)."""

    name: str
    doc: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    required: bool = True
    checks: tuple = field(default=(), compare=False)  # callables(table_df, tables) -> problems

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _check_population(frame, tables, file) -> list:
    """A comune without population is kept, with a warning saying what it changes."""
    from workbench.errors import Code, Problem

    missing = frame[frame["popolazione"].isna()]
    return [Problem(Code.POPULATION_MISSING, file=file, row=int(r), column="popolazione", value="", warning=True,
                    detail=(f"Popolazione mancante per {name}: il comune resta in tabelle e classifiche ma non pesa "
                            "nelle medie ponderate dell'ambito né nella spesa ripartita per residenti."),
                    hint="Se la conosci, inserisci la popolazione residente al 1° gennaio (fonte ISTAT).")
            for name, r in zip(missing["comune"], missing["_riga"])]


def _istat(doc="Codice ISTAT del comune", ref=("comuni", "istat")) -> Column:
    return Column("istat", "istat", doc, "019035", references=ref)


COMUNI = Table(
    "comuni", "I comuni dell'ambito con la popolazione residente.",
    (
        _istat(ref=None),
        Column("comune", "text", "Nome del comune", "Crema"),
        Column("popolazione", "count", "Residenti al 1° gennaio dell'anno di riferimento (se manca: il comune resta "
               "in tabelle e classifiche ma non pesa nelle medie ponderate né nella spesa ripartita per residenti)",
               "34.000", nullable=True),
        Column("sub_ambito", "text", "Sub-ambito o distretto di appartenenza", "Crema città",
               required=False, nullable=True),
        Column("pop_0_17", "count", "Residenti con meno di 18 anni", "5.100", required=False, nullable=True),
        Column("pop_18_64", "count", "Residenti da 18 a 64 anni", "20.500", required=False, nullable=True),
        Column("pop_65_piu", "count", "Residenti con 65 anni e più", "8.400", required=False, nullable=True),
    ),
    key=("istat",),
    checks=(_check_population,),
)

#: Rows listed per file, column and rule; the rest are counted in one closing problem.
MAX_PER_RULE = 200


def capped(problems: list, file: str, column: str, total: int | None = None) -> list:
    """At most ``MAX_PER_RULE`` problems, then one that counts the others (``total`` = all, if more were found).

    >>> len(capped(list(range(500)), "x.csv", "c")), capped([], "x.csv", "c")
    (201, [])
    """
    from workbench.errors import Code, Problem

    total = len(problems) if total is None else total
    listed = problems[:MAX_PER_RULE]
    if total <= len(listed):
        return listed
    return listed + [Problem(Code.MORE_PROBLEMS, file=file, column=column,
                             detail=f"altre {total - len(listed)} righe hanno lo stesso problema",
                             hint="Correggi le righe elencate e ripeti la verifica.")]


def _check_proportions(frame, tables, file) -> list:
    """A proportion cannot have more cases than its population: numeratore > denominatore is an input error."""
    import pandas as pd

    from workbench.errors import Code, Problem

    num, den = (frame[name].astype("Int64") for name in ("numeratore", "denominatore"))  # a column left out: no value
    over = (num > den).fillna(False).to_numpy(dtype=bool)  # compared as integers: no copy in floats of the columns
    if not over.any():
        return []
    meta = tables.get("indicatori_meta")
    kinds = meta.set_index("indicatore")["tipo"] if meta is not None and "tipo" in meta else pd.Series(dtype=object)
    rows = frame[over]
    kind = rows["indicatore"].map(kinds)
    rows = rows[kind.isna() | (kind == "proporzione")]
    listed = rows.head(MAX_PER_RULE)
    problems = [Problem(Code.CASES_OVER_POPULATION, file=file, row=int(r["_riga"]), column="numeratore", value=f"{r['numeratore']}",
                        detail=(f"Per «{r['indicatore']}» il numeratore ({r['numeratore']}) supera il denominatore "
                                f"({r['denominatore']}): in una proporzione i casi non possono superare la "
                                "popolazione di riferimento."),
                        hint=("Correggi numeratore o denominatore. Se l'indicatore è un rapporto tra due "
                              "popolazioni diverse (es. indice di vecchiaia) scrivi «rapporto» nella colonna «tipo» "
                              "di indicatori_meta: per i rapporti non si calcolano intervalli."))
                for _, r in listed.iterrows()]
    return capped(problems, file, "numeratore", len(rows))


INDICATORI = Table(
    "indicatori", "Valori degli indicatori per comune e anno (formato lungo: una riga per valore).",
    (
        _istat(),
        Column("anno", "year", "Anno a cui si riferisce il valore", "2023"),
        Column("indicatore", "text", "Codice dell'indicatore", "quota_75_piu",
               references=("indicatori_meta", "indicatore")),
        Column("valore", "number", "Valore dell'indicatore", "13,2", nullable=True),
        Column("numeratore", "count", "Casi (numeratore del tasso), se noto", "1.234",
               required=False, nullable=True),
        Column("denominatore", "count", "Popolazione di riferimento (denominatore), se nota", "9.350",
               required=False, nullable=True),
    ),
    key=("istat", "anno", "indicatore"),
    checks=(_check_proportions,),
)

INDICATORI_META = Table(
    "indicatori_meta", "Descrizione di ogni indicatore: etichetta, unità, verso e fonte.",
    (
        Column("indicatore", "text", "Codice dell'indicatore (come in indicatori)", "quota_75_piu"),
        Column("etichetta", "text", "Nome leggibile mostrato nei grafici", "Quota di residenti con 75 anni e più"),
        Column("unita", "text", "Unità di misura", "%"),
        Column("polarita", "choice", "+1 se un valore più alto indica più disagio, -1 se indica meno, "
               "0 se è un dato di contesto", "+1", choices=("+1", "-1", "0")),
        Column("fonte", "text", "Fonte del dato, mostrata sotto ogni grafico", "ISTAT, popolazione residente 2023"),
        Column("tema", "text", "Tema a cui appartiene l'indicatore (per gli indici compositi)",
               "invecchiamento", required=False, nullable=True),
        Column("tipo", "choice", "«proporzione»: i casi (numeratore) fanno parte della popolazione (denominatore), "
               "con intervallo al 95%; «rapporto»: due popolazioni diverse (es. indice di vecchiaia), senza "
               "intervallo; «conteggio»: numero assoluto (valore dell'ambito = somma); «indice composito»: "
               "costruito da altri indicatori (es. IVSM), fuori dall'indice composito predefinito; «altro». "
               "Vuoto = proporzione se numeratore e denominatore sono dati", "proporzione", required=False,
               nullable=True, choices=INDICATOR_KINDS),
    ),
    key=("indicatore",),
)

TABLES: dict[str, Table] = {t.name: t for t in (COMUNI, INDICATORI, INDICATORI_META)}


@dataclass(frozen=True)
class ConfigKey:
    """One entry of ``distretto.toml``."""

    name: str
    kind: type
    doc: str
    example: str
    required: bool = False
    default: object = None
    minimum: int | None = None     # for whole numbers
    maximum: int | None = None


CONFIG_KEYS = (
    ConfigKey("nome", str, "Nome dell'ambito territoriale", '"Ambito Cremasco"', required=True),
    ConfigKey("anno", int, "Anno di riferimento dei dati", "2023", required=True, minimum=1900, maximum=2100),
    ConfigKey("sub_ambiti", list, "Elenco dei sub-ambiti (facoltativo)", '["Crema città", "Nord"]', default=[]),
    ConfigKey("note", str, "Note libere sull'ambito e sui dati", '"Dati ISTAT e MEF"', default=""),
    ConfigKey("soglia_riservatezza", int, "Conteggi inferiori a questa soglia non vengono mostrati "
              "negli output condivisi", "5", default=5, minimum=1, maximum=1000),
    ConfigKey("nascondi_zeri", bool, "Se vero, negli output condivisi sono nascosti anche i conteggi pari a zero "
              "(di norma lo zero si mostra)", "false", default=False),
    ConfigKey("dati_dimostrativi", list, "Tabelle che contengono dati dimostrativi (sintetici)",
              '["servizi"]', default=[]),
    ConfigKey("famiglie_progetto", list, "Famiglie di progetto per classificare le proposte del laboratorio "
              "(vuoto = presa in carico integrata, lavoro di comunità, modello organizzativo, progetti "
              "sperimentali)", '["presa in carico integrata", "lavoro di comunità"]', default=[]),
    ConfigKey("ciclo_precedente", str, "Cartella del report del distretto nel ciclo di piano precedente (scritta da "
              "`workbench esegui`, relativa a questa cartella): accanto a indicatori e servizi si vedono i valori e "
              "le azioni del ciclo scorso", '"../report-2023/cremasco"', default=""),
)


# --- servizi: the supply of services (optional table) ------------------------------------------------

#: Value of ``servizi.territorio`` meaning "the whole ambito".
WHOLE_AMBITO = "ambito"
#: Tolerance, in percentage points, on the shares of a service shared by several comuni.
SHARE_TOLERANCE = 0.5


def _rule_problems(code, frame, mask, file: str, column: str, detail, hint: str) -> list:
    """One ``code`` problem per masked row (capped); ``detail`` is a text or a function of the row."""
    from workbench.errors import Problem

    hits = frame[mask]
    return capped([Problem(code, file=file, row=int(row["_riga"]), column=column,
                           value=None if row[column] is None or row[column] != row[column] else str(row[column]),
                           detail=detail(row) if callable(detail) else detail, hint=hint)
                   for _, row in hits.head(MAX_PER_RULE).iterrows()], file, column, len(hits))


def _check_amounts(frame, tables, file) -> list:
    """Spending, co-payments and health-service shares cannot be negative."""
    from workbench.errors import Code, Problem

    problems = []
    for name in ("spesa_euro", "compartecipazione_utenti_euro", "quota_ssn_euro"):
        values = frame[name].astype("float64")
        bad = frame[values.notna() & (values < 0)]
        problems += capped([Problem(Code.NEGATIVE, file=file, row=int(r), column=name, value=f"{v:g}")
                            for v, r in zip(bad[name].head(MAX_PER_RULE), bad["_riga"])], file, name, len(bad))
    return problems


def _service(name) -> str:
    """A service as named in a message; a row may have lost its name (reported by its own rule).

    >>> _service("SAD"), _service(None)
    ('«SAD»', 'senza nome')
    """
    return "senza nome" if name is None or name != name else f"«{name}»"


def _check_territory(frame, tables, file) -> list:
    """Every row says where the service is delivered: a comune (istat) or a territory, not both, not neither."""
    from workbench.errors import Code

    has_code, has_area = frame["istat"].notna(), frame["territorio"].notna()
    problems = _rule_problems(
        Code.SERVICE_WITHOUT_PLACE, frame, ~has_code & ~has_area, file, "istat",
        lambda r: (f"Utenti e spesa senza comune: il servizio {_service(r['servizio'])} non indica né il comune (istat) "
                   "né il territorio servito (ambito o sub-ambito)."),
        "Scrivi il codice ISTAT del comune servito, oppure in «territorio» «ambito» o il nome del sub-ambito.")
    problems += _rule_problems(
        Code.SERVICE_TWO_PLACES, frame, has_code & has_area, file, "territorio",
        lambda r: f"La riga indica sia il comune {r['istat']} sia il territorio «{r['territorio']}».",
        "Lascia vuoto «territorio» per un servizio di un comune, oppure vuoto «istat» per un servizio "
        "d'ambito o di sub-ambito.")
    subs = set()
    if "comuni" in tables:
        subs = {s.strip().lower() for s in tables["comuni"]["sub_ambito"].dropna()}
    known = subs | {WHOLE_AMBITO}
    unknown = has_area & ~frame["territorio"].fillna("").str.strip().str.lower().isin(known)
    allowed = ", ".join([WHOLE_AMBITO] + sorted(tables["comuni"]["sub_ambito"].dropna().unique())
                        if "comuni" in tables else [WHOLE_AMBITO])
    problems += _rule_problems(
        Code.TERRITORY_UNKNOWN, frame, unknown, file, "territorio",
        lambda r: f"«{r['territorio']}» non è «ambito» né un sub-ambito della tabella comuni.",
        f"Valori ammessi: {allowed}.")
    problems += _rule_problems(
        Code.SHARE_WITHOUT_COMUNE, frame, frame["quota"].notna() & ~has_code, file, "quota",
        "La quota si usa solo per i servizi condivisi fra alcuni comuni: manca il codice ISTAT del comune.",
        "Scrivi una riga per ogni comune che condivide il servizio, con il suo codice ISTAT e la sua quota (%).")
    return problems


def _check_shares(frame, tables, file) -> list:
    """Shares of a service shared by several comuni add up to 100% and the totals repeat identically."""
    from workbench.errors import Code, Problem

    shared = frame[frame["quota"].notna() & frame["istat"].notna()]
    problems = []
    for (service, area, manager, year), group in shared.groupby(
            ["servizio", "area", "ente_gestore", "anno"], dropna=False, sort=False):
        first = group.iloc[0]
        total = float(group["quota"].sum())
        if abs(total - 100) > SHARE_TOLERANCE:
            parts = " + ".join(f"{q:g}" for q in group["quota"])
            problems.append(Problem(
                Code.SHARES_NOT_100, file=file, row=int(first["_riga"]), column="quota", value=f"{total:g}",
                detail=(f"Le quote del servizio condiviso {_service(service)} ({area}, {year}) sommano a "
                        f"{parts} = {total:g}%, non a 100%."),
                hint="Correggi le quote dei comuni che condividono il servizio perché sommino a 100."))
        for column in ("spesa_euro", "utenti", "compartecipazione_utenti_euro", "quota_ssn_euro"):
            if group[column].astype("Float64").nunique(dropna=False) > 1:
                problems.append(Problem(
                    Code.SHARED_TOTALS_DIFFER, file=file, row=int(first["_riga"]), column=column,
                    value=str(first[column]),
                    detail=(f"Nelle righe del servizio condiviso {_service(service)} ({area}, {year}) «{column}» "
                            "ha valori diversi."),
                    hint=(f"Per un servizio condiviso ripeti in ogni riga «{column}» complessivo del servizio: "
                          "la quota di ciascun comune è in «quota».")))
    return problems


SERVIZI = Table(
    "servizi",
    "Spesa e utenti dei servizi sociali per area di utenza (una riga per servizio, anno e territorio servito). "
    "Dove è erogato il servizio: servizio di un comune → codice in «istat», «territorio» vuoto; servizio "
    "dell'intero ambito → «istat» vuoto e «territorio» = ambito; servizio di un sub-ambito → «istat» vuoto e "
    "«territorio» = nome del sub-ambito (come in comuni.sub_ambito). I servizi d'ambito e di sub-ambito sono "
    "ripartiti fra i comuni con la regola in «riparto» (o quella scelta nel notebook 02). Servizio condiviso da "
    "alcuni comuni → una riga per comune con la sua «quota» (%), ripetendo in ogni riga spesa, "
    "compartecipazione, quota SSN e utenti complessivi del servizio; le quote devono sommare a 100. Gli importi "
    "seguono l'indagine ISTAT sugli interventi e i servizi sociali dei comuni: «spesa_euro» è la spesa dei "
    "comuni, al netto di quanto pagano gli utenti e il Servizio sanitario; la spesa lorda è la somma dei tre.",
    (
        Column("servizio", "text", "Nome del servizio o intervento", "Assistenza domiciliare anziani (SAD)"),
        Column("area", "choice", "Area di utenza (classificazione ISTAT)", "anziani", choices=AREAS),
        Column("macro_area", "choice", "Macro-area di spesa (classificazione ISTAT)", "interventi e servizi",
               choices=("interventi e servizi", "trasferimenti in denaro", "strutture")),
        Column("ente_gestore", "text", "Ente che gestisce il servizio", "Cooperativa sociale Il Ponte"),
        Column("natura", "choice", "Natura dell'ente gestore", "terzo settore",
               choices=("pubblico", "terzo settore", "privato")),
        Column("istat", "istat", "Codice ISTAT del comune servito; vuoto per i servizi d'ambito o di sub-ambito",
               "019035", nullable=True, references=("comuni", "istat")),
        Column("territorio", "text", "Vuoto per il servizio di un comune; «ambito» per l'intero ambito; "
               "altrimenti il nome del sub-ambito servito", "ambito", required=False, nullable=True),
        Column("anno", "year", "Anno della spesa", "2023"),
        Column("utenti", "count", "Utenti (persone o nuclei) nell'anno", "120", nullable=True),
        Column("spesa_euro", "number", "Spesa dei comuni e dell'ambito per il servizio, in euro, al netto della "
               "compartecipazione degli utenti e della quota del Servizio sanitario", "250.000"),
        Column("compartecipazione_utenti_euro", "number", "Quota pagata dagli utenti, in euro (non compresa in "
               "spesa_euro)", "30.000", required=False, nullable=True),
        Column("quota_ssn_euro", "number", "Quota a carico del Servizio sanitario, in euro (non compresa in "
               "spesa_euro)", "0", required=False, nullable=True),
        Column("quota", "number", "Per un servizio condiviso da alcuni comuni: quota (%) del comune della riga",
               "25", required=False, nullable=True, minimum=0, maximum=100),
        Column("riparto", "choice", "Regola per ripartire fra i comuni un servizio d'ambito o di sub-ambito "
               "(vuoto = quella scelta nel notebook 02)", "popolazione", required=False, nullable=True,
               choices=("popolazione", "utenti")),
    ),
    key=("servizio", "area", "ente_gestore", "anno", "istat"),
    required=False,
    checks=(_check_amounts, _check_territory, _check_shares),
)
TABLES[SERVIZI.name] = SERVIZI


# --- documenti: readings for the workshop (optional table) ------------------------------------------

DOCUMENTI = Table(
    "documenti", "Letture e materiali per il laboratorio (piani di zona, ricerche, delibere), elencati nella "
    "pagina del laboratorio e nel documento finale.",
    (
        Column("titolo", "text", "Titolo del documento", "Piano di Zona 2021-2023"),
        Column("fonte", "text", "Chi lo ha prodotto", "Ambito Cremasco"),
        Column("anno", "year", "Anno di pubblicazione", "2021", nullable=True),
        Column("temi", "text", "Temi trattati, separati da |", "anziani|domiciliarità", required=False,
               nullable=True),
        Column("link", "text", "Indirizzo web o nome del file (nella cartella del distretto)",
               "piano_di_zona_2021.pdf", required=False, nullable=True),
    ),
    key=("titolo",),
    required=False,
)
TABLES[DOCUMENTI.name] = DOCUMENTI


# --- attori, legami, ruoli: the local welfare network (optional tables, notebook 03) --------------------

#: Sectors of the actors of the network (colours in ``workbench.network.graph``).
SECTORS = ("pubblico-comune", "servizi sociali", "sanità", "scuola", "terzo settore", "profit", "sindacato",
           "forze dell'ordine", "gruppi di cittadini", "altro")
#: Tie types and intensity levels (1–4) of the network survey.
TIE_TYPES = ("informazione", "invio/presa in carico", "co-progettazione", "risorse condivise")
INTENSITY = {1: "networking", 2: "cooperazione", 3: "coordinamento", 4: "collaborazione"}
#: Rule applied to the same tie reported twice in one wave (stated in the warning and applied by the analysis).
TIE_MERGE_RULE = ("nell'analisi il legame è contato una volta sola, con l'intensità più alta e la media di "
                  "fiducia e valore")


def _check_self_ties(frame, tables, file) -> list:
    """An actor cannot have a tie with itself."""
    from workbench.errors import Code

    mask = frame["da"].notna() & (frame["da"] == frame["a"])
    return _rule_problems(Code.SELF_TIE, frame, mask, file, "a",
                          lambda r: f"Legame di «{r['da']}» con se stesso.",
                          "Togli la riga oppure correggi «da» o «a».")


def _check_duplicate_ties(frame, tables, file) -> list:
    """The same tie (da, a, tipo) reported twice in one wave: a warning naming the merge rule."""
    from workbench.errors import Code, Problem

    keys = ["da", "a", "tipo", "onda"]
    valid = frame[keys].notna().all(axis=1)
    dup = frame[valid & frame.duplicated(keys, keep=False)]
    first = dup.groupby(keys, sort=False)["_riga"].transform("min")
    repeated = dup["_riga"] != first
    return capped([Problem(Code.DUPLICATE_TIE, file=file, row=int(row["_riga"]), column="tipo", value=str(row["tipo"]),
                           detail=(f"Legame ripetuto nella stessa onda ({row['da']} → {row['a']}, {row['tipo']}, "
                                   f"onda {row['onda']}): compare anche alla riga {int(other)}; {TIE_MERGE_RULE}."),
                           hint="Se è un errore di compilazione tieni una sola riga.", warning=True)
                   for (_, row), other in zip(dup[repeated].head(MAX_PER_RULE).iterrows(), first[repeated])],
                  file, "tipo", int(repeated.sum()))


ATTORI = Table(
    "attori", "Gli attori della rete locale del welfare (enti, servizi, associazioni, gruppi): uno per riga.",
    (
        Column("id", "text", "Codice breve e univoco dell'attore (usato in legami e ruoli)", "COM_CREMA"),
        Column("nome", "text", "Nome dell'ente o del servizio (organizzazioni, non persone)",
               "Comune di Crema – Servizi sociali"),
        Column("settore", "choice", "Settore dell'attore", "pubblico-comune", choices=SECTORS),
        Column("livello", "choice", "Livello di chi partecipa alla rete", "gestionale",
               choices=("politico", "dirigenziale", "gestionale", "operativo")),
        Column("aree", "choices", "Aree di utenza in cui l'attore è attivo", "anziani|disabili",
               choices=AREAS, nullable=True),
        Column("sub_ambito", "text", "Sub-ambito o comune in cui opera (vuoto = tutto l'ambito)", "Crema",
               required=False, nullable=True),
        Column("influenza", "integer", "Influenza sull'obiettivo comune, da 1 a 5 (stile Net-Map)", "3",
               required=False, nullable=True, minimum=1, maximum=5),
    ),
    key=("id",),
    required=False,
)

LEGAMI = Table(
    "legami", "I legami tra attori come dichiarati da chi risponde (diretti: da → a), per tipo e onda di "
    "rilevazione. Intensità: 1 networking, 2 cooperazione, 3 coordinamento, 4 collaborazione. Lo stesso legame "
    f"(da, a, tipo) ripetuto nella stessa onda genera un avviso: {TIE_MERGE_RULE}.",
    (
        Column("da", "text", "Attore che dichiara il legame", "COM_CREMA", references=("attori", "id")),
        Column("a", "text", "Attore partner", "ASST_CREMA", references=("attori", "id")),
        Column("tipo", "choice", "Tipo di legame", "co-progettazione", choices=TIE_TYPES),
        Column("intensita", "integer", "Intensità: 1 networking, 2 cooperazione, 3 coordinamento, "
               "4 collaborazione", "3", minimum=1, maximum=4),
        Column("fiducia", "integer", "Fiducia nel partner, da 1 a 4 (stile PARTNER)", "3",
               required=False, nullable=True, minimum=1, maximum=4),
        Column("valore", "integer", "Valore del partner per la rete, da 1 a 4 (stile PARTNER)", "4",
               required=False, nullable=True, minimum=1, maximum=4),
        Column("onda", "integer", "Onda della rilevazione o ciclo di piano (es. 2024)", "2024"),
    ),
    required=False,
    checks=(_check_self_ties, _check_duplicate_ties),
)

RUOLI = Table(
    "ruoli", "Matrice dei ruoli: chi fa che cosa in ciascun processo della rete (es. rete antiviolenza).",
    (
        Column("attore", "text", "Attore (come in attori.id)", "COM_CREMA", references=("attori", "id")),
        Column("processo", "text", "Processo o funzione della rete", "Presa in carico delle donne"),
        Column("ruolo", "choice", "Ruolo nel processo", "responsabile",
               choices=("responsabile", "contributore", "consultato", "informato")),
    ),
    key=("attore", "processo"),
    required=False,
)

for _table in (ATTORI, LEGAMI, RUOLI):
    TABLES[_table.name] = _table
