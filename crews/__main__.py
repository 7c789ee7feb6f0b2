"""Command line: ``python -m crews run <crew> --input FILE.json``, ``python -m crews eval <crew>`` and
``python -m crews prompts push|promote|show`` (the crews' prompts in MLflow's prompt registry).

The input file holds one item (a JSON object) or a list of items (for contract_qa
also a whole question set: ``{"questions": [...], "contracts": [...], "register_url": ...}``);
each item is run with the same tracking as in Airflow and the results are printed as JSON.
The LLM comes from the ``CREWS_LLM_*`` environment variables (default: the
local llama.cpp server). Exit status 1 if any item failed, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import crews  # noqa: F401  (switches CrewAI telemetry off before it is imported)
from crews.errors import InputError
from crews.registry import CREWS

PROMPT_HELP = ("which prompts to serve: an alias or a version number of prompt crews.<crew>, or 'yaml' for "
               "the files on disk (default: CREWS_PROMPT_VERSION, CREWS_PROMPT_ALIAS, production; falls back "
               "to the YAML files when the registry cannot serve it)")


def _run(args: argparse.Namespace) -> int:
    from crews.runner import run_item
    from crews.runtime.settings import LLMSettings

    path = Path(args.input)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        print(f"error: cannot read input file {path}: {exc}", file=sys.stderr)
        return 2
    items = data if isinstance(data, list) else [data]
    if args.crew == "contract_qa" and isinstance(data, dict) and "questions" in data:
        from crews.contract_qa.contract import question_set

        try:
            items = question_set(data)
        except InputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        data = items
    settings = LLMSettings.from_env()
    results, failed = [], 0
    for index, item in enumerate(items):
        try:
            results.append(run_item(args.crew, item, settings, base_dir=path.resolve().parent,
                                    prompt_version=args.prompt_version))
        except InputError as exc:
            failed += 1
            results.append({"crew": args.crew, "index": index, "error": str(exc)})
            print(f"error: item {index}: {exc}", file=sys.stderr)
        except Exception as exc:  # one failing item must not lose the others
            failed += 1
            results.append({"crew": args.crew, "index": index, "error": f"{type(exc).__name__}: {exc}"})
            print(f"error: item {index} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    output = results[0] if not isinstance(data, list) else results
    print(json.dumps(output, indent=2, ensure_ascii=False))
    return 1 if failed else 0


def _eval(args: argparse.Namespace) -> int:
    from crews.evaluation.evaluate import evaluate_crew
    from crews.evaluation.golden import golden_path, golden_sets
    from crews.evaluation.judge import judge_settings_from_env
    from crews.runtime.settings import LLMSettings

    settings, judge = LLMSettings.from_env(), judge_settings_from_env()
    crews_ = sorted(CREWS) if args.crew == "all" else [args.crew]
    reports, failed = [], 0
    if args.golden:
        if args.crew == "all":
            print("error: --golden needs one crew, not all", file=sys.stderr)
            return 2
        report = evaluate_crew(args.crew, settings, judge, limit=args.limit, golden=Path(args.golden),
                               prompt_version=args.prompt_version)
        _print_comparison(report)
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0
    sets = golden_sets(args.golden_set)
    for crew in crews_:
        for golden_set in sets:
            if len(sets) > 1 and not golden_path(crew, golden_set).is_file():
                continue
            try:
                reports.append(evaluate_crew(crew, settings, judge, limit=args.limit, golden_set=golden_set,
                                             prompt_version=args.prompt_version))
            except Exception as exc:  # e.g. MLflow unreachable: say so, go on with the next crew
                failed += 1
                reports.append({"crew": crew, "golden_set": golden_set,
                                "error": f"{type(exc).__name__}: {exc}"})
                print(f"error: evaluation of {crew} ({golden_set}) failed: {type(exc).__name__}: {exc}",
                      file=sys.stderr)
    for report in reports:
        _print_comparison(report)
        for note in report.get("notes", []):
            print(f"note: {note}", file=sys.stderr)
    print(json.dumps(reports[0] if len(reports) == 1 else reports, indent=2, ensure_ascii=False))
    return 1 if failed else 0


def _print_comparison(report: dict) -> None:
    """The scores next to the previous evaluation of another prompt version, on stderr (stdout is JSON)."""
    from crews.evaluation.evaluate import comparison_lines

    if "scores" in report:
        print(f"{report['crew']} ({report['golden_set']}):", file=sys.stderr)
        for line in comparison_lines(report):
            print(f"  {line}", file=sys.stderr)


def _prompts(args: argparse.Namespace) -> int:
    """push / promote / show: exit 2 when a name does not exist, 1 when MLflow cannot be reached."""
    from crews.tracking.mlflow_writer import TrackingUnavailable, connect, tracking_uri
    from crews.tracking.prompts import PromptRegistryError, check_alias, promote, push, show

    try:
        client = connect()
        if args.prompts_command == "push":
            crews_ = sorted(CREWS) if args.crew == "all" else [args.crew]
            reports = [push(client, crew, args.alias) for crew in crews_]
            for report in reports:
                moved = f"; {report['alias']} -> v{report['alias_version']}" if "alias_was" in report else (
                    f"; {report['alias']} stays at v{report['alias_version']}")
                print(f"{report['prompt']}: v{report['version']} "
                      f"{'registered' if report['registered'] else 'already registered'} (hash "
                      f"{report['prompt_hash']}){moved}", file=sys.stderr)
            output = reports[0] if len(reports) == 1 else reports
        elif args.prompts_command == "promote":
            output = promote(client, args.crew, args.version, args.alias)
            print(f"{output['prompt']}: {output['alias']} -> v{output['version']} (was "
                  f"{'v' + output['alias_was'] if output['alias_was'] else 'unset'})", file=sys.stderr)
        else:
            if args.version is not None and not args.version.isdigit():
                raise PromptRegistryError(f"--version {args.version!r} is not a version number")
            if args.alias is not None:
                check_alias(args.alias)
            output = show(client, args.crew, args.version or args.alias)
    except PromptRegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except TrackingUnavailable as exc:
        print(f"error: {exc} (MLFLOW_TRACKING_URI={tracking_uri()})", file=sys.stderr)
        return 1
    except Exception as exc:  # an MLflow error: say which, not a traceback
        print(f"error: prompt registry at {tracking_uri()}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(output, indent=2, ensure_ascii=False))
    return 0


def _schema(args: argparse.Namespace) -> int:
    from crews.registry import get_crew

    schemas = get_crew(args.crew).schemas
    name = args.document or next(iter(schemas))
    if name not in schemas:
        print(f"error: {args.crew} has no document {name!r}; choose one of {', '.join(schemas)}",
              file=sys.stderr)
        return 2
    print(json.dumps(schemas[name].model_json_schema(), indent=2, ensure_ascii=False))
    return 0


def _replay(_: argparse.Namespace) -> int:
    from crews.tracking import spool
    from crews.tracking.mlflow_writer import write_run

    written, left = spool.replay(write_run)
    print(f"replayed {written} spooled tracking records; {left} left in {spool.spool_dir()}")
    return 0 if left == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crews", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a crew on the items in a JSON file")
    run.add_argument("crew", choices=sorted(CREWS))
    run.add_argument("--input", required=True, help="JSON file with one item or a list of items")
    run.add_argument("--prompt-version", default=None, help=PROMPT_HELP)
    run.set_defaults(func=_run)
    evaluate = sub.add_parser("eval", help="evaluate a crew on its golden set and log the scores to MLflow")
    evaluate.add_argument("crew", choices=[*sorted(CREWS), "all"])
    evaluate.add_argument("--limit", type=int, default=None, help="only the first N golden records")
    evaluate.add_argument("--set", dest="golden_set", choices=["samples", "extended", "holdout", "all"],
                          default="all",
                          help="golden set: the samples, the extended set written apart from them, the "
                               "held-out set, or all of them (default; sets a crew lacks are skipped)")
    evaluate.add_argument("--golden", default=None,
                          help="a golden file of your own (same shape) instead of a set")
    evaluate.add_argument("--prompt-version", default=None, help=PROMPT_HELP)
    evaluate.set_defaults(func=_eval)
    prompts = sub.add_parser("prompts",
                             help="the crews' prompts in MLflow's prompt registry: push, promote, show")
    prompts_sub = prompts.add_subparsers(dest="prompts_command", required=True)
    push = prompts_sub.add_parser("push", help="register the crew's YAML prompt files as a version (none "
                                               "when unchanged); --alias points an alias at it")
    push.add_argument("crew", choices=[*sorted(CREWS), "all"], nargs="?", default="all")
    push.add_argument("--alias", default=None, help="move this alias to the pushed version (without it, "
                                                    "'production' is set only if it does not exist yet)")
    promote = prompts_sub.add_parser("promote", help="point an alias (default production) at a version")
    promote.add_argument("crew", choices=sorted(CREWS))
    promote.add_argument("version", help="the version number")
    promote.add_argument("--alias", default="production")
    show = prompts_sub.add_parser("show", help="which version and hash an alias (default: what runs are "
                                               "served) or a version number names")
    show.add_argument("crew", choices=sorted(CREWS))
    which = show.add_mutually_exclusive_group()
    which.add_argument("--alias", default=None)
    which.add_argument("--version", default=None)
    prompts.set_defaults(func=_prompts)
    schema = sub.add_parser("schema", help="print the JSON Schema of a document the crew reads or writes")
    schema.add_argument("crew", choices=sorted(CREWS))
    schema.add_argument("document", nargs="?", default=None,
                        help="fact_check: fact_sheet (default), draft, report; contract_qa: question, "
                             "answer; data_qa: dataset, report")
    schema.set_defaults(func=_schema)
    replay = sub.add_parser("replay-tracking", help="send spooled tracking records to MLflow")
    replay.set_defaults(func=_replay)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
