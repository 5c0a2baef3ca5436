"""argparse in Italian: the parser class of the ``workbench`` command (its sub-commands inherit it).

argparse's own texts («usage:», «options:», «error: the following arguments are required», …) are English
and fixed: :class:`ItalianParser` writes its usage, sections, help option and error messages in Italian,
and suggests the closest choice when a sub-command or a value is misspelt.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys

__all__ = ["ItalianParser", "ItalianFormatter", "ItalianRawFormatter", "italian_message", "arg", "command", "group",
           "SERVER_OPTIONS"]

#: argparse's error messages (Python 3.11–3.13) and their Italian text.
MESSAGES = (
    (r"the following arguments are required: (?P<names>.*)", None),  # singular or plural: see _required
    (r"argument (?P<arg>\S+): invalid choice: '?(?P<value>.*?)'? \(choose from (?P<choices>.*)\)", None),
    (r"argument (?P<arg>\S+): invalid int value: '?(?P<value>.*?)'?$",
     "argomento {arg}: «{value}» non è un numero intero"),
    (r"argument (?P<arg>\S+): invalid float value: '?(?P<value>.*?)'?$", "argomento {arg}: «{value}» non è un numero"),
    (r"argument (?P<arg>\S+): invalid (?P<type>\S+) value: '?(?P<value>.*?)'?$",
     "argomento {arg}: valore non valido «{value}»"),
    (r"argument (?P<arg>\S+): expected one argument", "argomento {arg}: manca il valore"),
    (r"argument (?P<arg>\S+): expected at least one argument", "argomento {arg}: serve almeno un valore"),
    (r"argument (?P<arg>\S+): expected at most one argument", "argomento {arg}: al massimo un valore"),
    (r"argument (?P<arg>\S+): expected (?P<n>\d+) arguments", "argomento {arg}: servono {n} valori"),
    (r"argument (?P<arg>\S+): not allowed with argument (?P<other>\S+)",
     "argomento {arg}: non si può usare insieme a {other}"),
    (r"argument (?P<arg>\S+): ignored explicit argument '?(?P<value>.*?)'?$",
     "argomento {arg}: valore «{value}» non previsto"),
    (r"one of the arguments (?P<names>.*) is required", "serve uno di questi argomenti: {names}"),
    (r"unrecognized arguments: (?P<names>.*)", "argomenti non riconosciuti: {names}"),
    (r"ambiguous option: (?P<arg>\S+) could match (?P<names>.*)", "opzione ambigua: {arg} può essere {names}"),
)


def _required(names: str) -> str:
    return ("manca l'argomento obbligatorio " if "," not in names else "mancano gli argomenti obbligatori ") + names


def _choice(arg: str, value: str, choices: str) -> str:
    options = [c.strip().strip("'") for c in choices.split(",")]
    close = difflib.get_close_matches(value, options, n=1)
    hint = f" Forse intendevi «{close[0]}»?" if close else ""
    return f"argomento {arg}: «{value}» non è tra le scelte possibili ({', '.join(options)}).{hint}"


def italian_message(message: str) -> str:
    """argparse's English error message in Italian (unknown messages are left as they are).

    >>> italian_message("the following arguments are required: cartella, --out")
    'mancano gli argomenti obbligatori cartella, --out'
    >>> italian_message("argument COMANDO: invalid choice: 'eseguii' (choose from 'verifica', 'esegui')")
    'argomento COMANDO: «eseguii» non è tra le scelte possibili (verifica, esegui). Forse intendevi «esegui»?'
    >>> italian_message("argument --porta: invalid int value: 'otto'")
    'argomento --porta: «otto» non è un numero intero'
    """
    for pattern, text in MESSAGES:
        match = re.fullmatch(pattern, message.strip())
        if not match:
            continue
        fields = match.groupdict()
        if "choices" in fields:
            return _choice(fields["arg"], fields["value"], fields["choices"])
        return _required(fields["names"]) if text is None else text.format(**fields)
    return message


class ItalianFormatter(argparse.HelpFormatter):
    """Help with «uso:» instead of «usage:»."""

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "uso: " if prefix is None else prefix)


class ItalianRawFormatter(ItalianFormatter, argparse.RawDescriptionHelpFormatter):
    """Italian help whose description and epilog keep their lines (a list of parameters)."""


class ItalianParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose every text is Italian; ``add_subparsers`` gives its sub-commands the same class.

    >>> parser = ItalianParser(prog="workbench")
    >>> _ = parser.add_argument("cartella")
    >>> print(parser.format_help())
    uso: workbench [-h] cartella
    <BLANKLINE>
    argomenti:
      cartella
    <BLANKLINE>
    opzioni:
      -h, --help  mostra questo aiuto ed esce
    <BLANKLINE>
    """

    def __init__(self, *args, add_help: bool = True, **kwargs):
        kwargs.setdefault("formatter_class", ItalianFormatter)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "argomenti"
        self._optionals.title = "opzioni"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                              help="mostra questo aiuto ed esce")

    def error(self, message: str):
        """Print the usage and the Italian message, exit with status 2 (as argparse does)."""
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: errore: {italian_message(message)}\n")


def arg(*flags: str, **options) -> tuple[tuple[str, ...], dict]:
    """One argument of a sub-command, as :func:`command` takes it (``add_argument``'s own parameters).

    >>> arg("--porta", type=int)
    (('--porta',), {'type': <class 'int'>})
    """
    return flags, options


def command(sub, name: str, func, help: str, *arguments: tuple, **parser_options) -> argparse.ArgumentParser:
    """Add the sub-command ``name``, which runs ``func(args)``, with its :func:`arg` arguments.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The sub-commands of a parser (``add_subparsers``).
    name, help : str
        The sub-command and its one-line Italian help.
    func : callable
        What the sub-command runs (``args.func``).
    *arguments : tuple
        Its arguments, each made by :func:`arg`.
    **parser_options
        More options of ``add_parser`` (``epilog``, ``formatter_class``).

    Returns
    -------
    argparse.ArgumentParser
        The sub-command's parser (for argument groups).
    """
    parser = sub.add_parser(name, help=help, **parser_options)
    for flags, options in arguments:
        parser.add_argument(*flags, **options)
    parser.set_defaults(func=func)
    return parser


def group(subparsers, name: str, help: str, dest: str):
    """Add the sub-command ``name`` with sub-commands of its own (``workbench piano crea``…); returns them."""
    return subparsers.add_parser(name, help=help).add_subparsers(dest=dest, metavar="AZIONE", required=True)


#: The options of a command that serves pages (``mostra``, ``questionario servi``).
SERVER_OPTIONS = (arg("--porta", type=int, default=8866, help="porta (predefinita 8866)"),
                  arg("--rete", action="store_true", help="accessibile dalla rete locale della sala (con token)"),
                  arg("--browser", action="store_true", help="apre il browser"))
