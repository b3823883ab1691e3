import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.errors import ValidationError
from escalation.player import play_trial
from escalation.rules import EscalationInputError
from escalation.rules import play as pure

HELP = """Play a scripted dose-escalation study through the real services and print the
committee's signed steps and the outcome (the MTD, the MAD or a stop, with the dose).

The study is the protocol file loaded under a fresh protocol number (PLAY-...), with its own
site, coordinator and medical monitor, so no other study is touched; it is safe on the demo
database. The clock is moved forward as the DLT windows need (time-machine); the play ends no
later than today. The same script played by the rules alone (escalation.rules.play) must give the
same steps and outcome.

SCRIPT.json:
  {
    "title": "L3 1/3 then 1/6, L4 exceeded: MTD 0.1 mg/kg",       (optional)
    "protocol": "mil97",                 (optional: a bundled protocol name or a .toml path)
    "settings": {"exceeded_variant": "simple", "top_dose_rule": "declare_at_3"},
                                         (optional: protocol-file [design] settings)
    "subjects": ["N", "N", "N", "T", "N", "N", "N", "N", "N"],
                                         (or a string: "NN NTN NNN"; spaces and commas ignored)
    "expected": {"outcome": "MTD", "dose": "0.1 mg/kg Q3W"}      (optional: checked with --check)
  }
Subjects are listed in enrollment order, each with the outcome at the dose they receive:
  N evaluable without DLT; T DLT (grade 3 neutrophil count decreased, related, Day 8);
  G related grade 2 AE without DLT (nausea, Day 4); X not evaluable (leaves treatment and the
  study on Day 6, replaced); P pending (enrolled, dosed on the play's last day).
See docs/trial-player.md."""


class Command(BaseCommand):
    help = HELP

    def create_parser(self, *args, **kwargs):
        from argparse import RawDescriptionHelpFormatter

        parser = super().create_parser(*args, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser):
        parser.add_argument("script", help="Path to the script (JSON, see above).")
        parser.add_argument(
            "--protocol", help="Protocol file (bundled name or .toml path); default the script's."
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Fail unless the outcome equals the script's 'expected' and the rules alone "
            "give the same steps.",
        )

    def handle(self, *args, script, protocol=None, check=False, **options):
        path = Path(script)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CommandError(f"{path}: cannot read the script ({error})") from error
        if not isinstance(data, dict):
            raise CommandError(f"{path}: the script is a JSON object (see --help)")
        try:
            parsed = pure.parse_script(data)
        except EscalationInputError as error:
            raise CommandError(f"{path}: {error}") from error
        protocol = protocol or data.get("protocol") or "mil97"
        try:
            played = play_trial(parsed, protocol=protocol)
        except ValidationError as error:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
            ) from error
        result = played.result
        out = self.stdout
        out.write(
            f"{parsed.title or path.name}: played as study {played.study.protocol_number} "
            f"({played.track.name}), {played.started_on} to {played.ended_on}"
        )
        if parsed.settings:
            out.write(
                "Settings: " + ", ".join(f"{k}={v}" for k, v in sorted(parsed.settings.items()))
            )
        out.write(f"Signed steps (each confirmed by {played.monitor_name} with a password):")
        for n, step in enumerate(played.played, 1):
            out.write(
                f"  {n}. {step.on}  #{step.sequence}  {step.step.describe()}: {step.step.text}"
            )
        if not played.played:
            out.write("  (none)")
        out.write(
            f"Subjects enrolled: {result.enrolled}"
            + (f"; not enrolled: {result.not_enrolled}" if result.not_enrolled else "")
        )
        out.write(self.style.SUCCESS(f"Outcome: {result.outcome.describe()}"))
        if check:
            self._check(data, parsed, result, protocol)

    def _check(self, data, parsed, result, protocol):
        import tomllib

        from trial.services import protocol_path

        file = tomllib.loads(protocol_path(protocol).read_text(encoding="utf-8"))
        design = {**file.get("design", {}), **parsed.settings}
        reference = pure.play(
            parsed, pure.protocol_from_file(file), pure.design_settings(design)
        ).summary()
        problems = []
        if reference != result.summary():
            problems.append(f"the rules alone give {reference}, the services {result.summary()}")
        expected = data.get("expected") or {}
        got = {"outcome": result.outcome.kind, "dose": result.outcome.dose}
        for key in ("outcome", "dose"):
            if key in expected and expected[key] != got[key]:
                problems.append(f"expected {key} {expected[key]!r}, got {got[key]!r}")
        if problems:
            raise CommandError("; ".join(problems))
        self.stdout.write("Check: the services and the rules alone agree.")
