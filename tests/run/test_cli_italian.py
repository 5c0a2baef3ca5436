"""The ``workbench`` command in Italian (issue 18): argparse texts, plurals, dates, decimals, quiet servers, and
the notebooks' parameters checked before anything runs. One test per CLI defect of the issue."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from workbench import fmt
from workbench.argparse_it import ItalianParser
from workbench.cli import build_parser, main
from workbench.errors import Code, Problem, format_problems
from workbench.run.params import ParameterError, check_parameters, notebook_parameters
from workbench.paths import DEMO

ENGLISH = re.compile(r"usage:|options:|error:|positional arguments|show this help|the following arguments|"
                     r"invalid choice|invalid int value|choose from|unrecognized arguments|expected one argument")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", [[], ["esegui", str(DEMO / "cremasco")], ["eseguii"], ["mostra", "r", "--porta", "otto"],
                                  ["verifica"], ["verifica", "x", "--formato", "pdf"], ["sito", "r", "--zip"],
                                  ["nuovo", "x", "--nome", "A", "--comuni", "a", "--provincia", "CR"], ["lab", "a", "b"]])
def test_argument_errors_are_italian(args):
    result = run(*args)
    assert result.returncode == 2
    assert result.stderr.startswith("uso: workbench") and ": errore: " in result.stderr
    assert not ENGLISH.search(result.stdout + result.stderr), result.stderr


def test_misspelt_command_gets_a_suggestion():
    assert "Forse intendevi «esegui»?" in run("eseguii").stderr


@pytest.mark.parametrize("command", [[], ["esegui"], ["mostra"], ["lab"], ["verifica"], ["nuovo"]])
def test_help_is_italian(command):
    result = run(*command, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("uso: workbench") and "opzioni:" in result.stdout
    assert "mostra questo aiuto ed esce" in result.stdout
    assert not ENGLISH.search(result.stdout), result.stdout


def test_sub_commands_inherit_the_italian_parser():
    parser = build_parser()
    assert isinstance(parser, ItalianParser)
    commands = parser._subparsers._group_actions[0].choices
    assert commands and all(isinstance(p, ItalianParser) for p in commands.values())


# --- plurals, dates, decimals ----------------------------------------------------------------------

def _problem(warning: bool) -> Problem:
    return Problem(Code.CONFIG_MISSING, "distretto.toml", warning=warning)


@pytest.mark.parametrize(("errors", "warnings", "head"), [(1, 0, "Trovato 1 errore e 0 avvisi."),
                                                          (2, 1, "Trovati 2 errori e 1 avviso."),
                                                          (0, 1, "Nessun errore; 1 avviso.")])
def test_problem_counts_agree_with_their_number(errors, warnings, head):
    problems = [_problem(False) for _ in range(errors)] + [_problem(True) for _ in range(warnings)]
    assert format_problems(problems).splitlines()[0] == head


def test_batch_summary_says_1_distretto():
    from workbench.run.batch import DONE, Outcome, summary_table

    outcome = Outcome("cremasco", "cremasco", DONE, 1.0, "4/4")
    assert summary_table([outcome]).splitlines()[-1] == "1 distretto: 1 completato, 0 invariati, 0 con errori."


def test_numbers_are_italian_and_never_minus_zero():
    assert fmt.number(0.115, 3) == "0,115"
    assert fmt.number(-0.0004, 2) == "0,00" and fmt.number(-0.04) == "0,0"
    assert fmt.number(-0.5) == "-0,5"
    assert fmt.plural(1, "punto", "punti") == "1 punto" and fmt.plural(2, "punto", "punti") == "2 punti"


def test_dates_are_italian():
    assert fmt.italian_date("2026-12-01T09:30:00") == "1 dicembre 2026"


# --- servers: what the console shows --------------------------------------------------------------

def test_server_noise_goes_to_the_log_not_to_the_console(tmp_path, monkeypatch, capfd):
    from workbench.run import serve

    monkeypatch.setattr(serve, "CACHE", tmp_path)
    child = ("import sys; print('[I 2026 Voila] Executing: 100%|##| 2/2 [00:01, 1.2 cell/s]'); "
             "print('Cruscotti pronti. Apri nel browser: http://127.0.0.1:1/', flush=True); "
             "print('[W 2026 Voila] Notebook disagio.ipynb is not trusted', file=sys.stderr); "
             "print('Kernel is running over TCP without encryption.', file=sys.stderr)")
    assert serve.run_until_stopped([sys.executable, "-c", child], {}) == 0
    out, err = capfd.readouterr()
    assert "Cruscotti pronti" in out
    assert not re.search(r"Executing|cell/s|not trusted|without encryption", out + err)
    log = (tmp_path / "registri" / "mostra.log").read_text(encoding="utf-8")
    assert all(s in log for s in ("Executing", "is not trusted", "without encryption", "Cruscotti pronti"))


# --- esegui: parameters checked before anything runs ----------------------------------------------

def test_wrong_type_fails_before_any_notebook_runs(tmp_path):
    result = run("esegui", str(DEMO / "cremasco"), "--out", str(tmp_path / "r"), "-p", "anno", "duemila")
    assert result.returncode == 1
    assert "«duemila» non è un numero intero" in result.stderr
    assert "invalid literal" not in result.stdout + result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "r").exists()  # nothing ran, nothing written


def test_misspelt_parameter_is_refused_with_a_suggestion(tmp_path):
    result = run("esegui", str(DEMO / "cremasco"), "--out", str(tmp_path / "r"), "-p", "annno", "2022",
                 "-p", "soglia_popolazione", "mille")
    assert result.returncode == 1
    assert "«annno» non è un parametro dei notebook. Forse intendevi «anno»?" in result.stderr
    assert "«mille» non è un numero intero" in result.stderr  # every problem at once
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_a_run_prints_italian_progress_and_no_papermill_warning(tmp_path):
    """A parameter of one notebook only (nome_laboratorio) is given to that notebook: papermill's English
    «Passed unknown parameter» and its «Executing … cell/s» bar never reach the consultant."""
    result = run("esegui", str(DEMO / "cremasco"), "--out", str(tmp_path / "r"), "-p", "nome_laboratorio", "Prova")
    console = result.stdout + result.stderr
    assert result.returncode == 0, console[-2000:]
    assert "Esecuzione:" in console and "celle/s" in console
    assert not re.search(r"Passed unknown|Executing|cell/s|Traceback", console), console[-2000:]
    setup = json.loads((tmp_path / "r" / "cremasco" / "cruscotti" / "laboratorio.json").read_text(encoding="utf-8"))
    assert setup["laboratorio"]["nome"] == "Prova"


def test_good_parameters_get_the_type_of_their_default():
    params = check_parameters([("anno", "2022"), ("soglia_popolazione", "2000"), ("metodo", "zscore"),
                               ("aree", "anziani,disabili"), ("intensita_minima", "2"),
                               ("indicatore_bisogno", '{"anziani": "quota_75_piu"}')])
    assert params == {"anno": 2022, "soglia_popolazione": 2000, "metodo": "zscore", "aree": ["anziani", "disabili"],
                      "intensita_minima": 2, "indicatore_bisogno": {"anziani": "quota_75_piu"}}


@pytest.mark.parametrize(("name", "value", "text"), [("metodo", "ampio", "valori possibili ampi, percentili, zscore"),
                                                     ("workspace", "altrove", "lo imposta `workbench esegui`"),
                                                     ("indicatore_bisogno", "anziani", "non è un dizionario")])
def test_bad_parameters_are_explained(name, value, text):
    with pytest.raises(ParameterError, match=re.escape(text)):
        check_parameters([(name, value)])


def test_esegui_help_lists_every_parameter_with_its_default():
    help_text = run("esegui", "--help").stdout
    for param in notebook_parameters().values():
        assert re.search(rf"^  {param.name} \(predefinito ", help_text, re.M), param.name
    assert "soglia_popolazione (predefinito 1000" in help_text and "None" not in help_text


def test_parameter_problems_are_printed_by_main_without_traceback(capsys, tmp_path):
    assert main(["esegui", str(DEMO / "cremasco"), "--out", str(tmp_path), "-p", "annno", "1"]) == 1
    assert "Forse intendevi «anno»?" in capsys.readouterr().err
