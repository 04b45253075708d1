"""``python -m devstack <command>``: the local stack's command line.

run                    the whole system on an embedded AWS (``make run``)
tick --at ISO          one dispatch tick at ISO against the running stack
sms --from NUMBER --text TEXT   a customer's SMS reply to the running stack
whatsapp --from NUMBER --text TEXT   a customer's WhatsApp reply to the running stack
env                    export API, OUTBOX and OPERATOR_TOKEN of the running stack (eval "$(...)")
package                the deployable template and zip in build/package (``make package``)
compile-translations   templates/locale/*/LC_MESSAGES/*.po -> .mo
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description="Aftercare's local stack")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start moto, the API, the scheduler and the outbox")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--moto-port", type=int, default=5000)
    run.add_argument("--api-port", type=int, default=8000)
    run.add_argument("--outbox-port", type=int, default=8001)
    run.add_argument("--no-scheduler", action="store_true", help="move time only with `tick`")
    run.add_argument("--state", type=Path, default=None, help="where to write the endpoints (default .devstack.json)")
    tick = commands.add_parser("tick", help="run dispatch at a given time against the running stack")
    tick.add_argument(
        "--at", required=True, help="ISO time, e.g. 2026-12-01T10:00:00Z, or a time from now, e.g. +12d or +2h30m"
    )
    tick.add_argument("--state", type=Path, default=None, help="the running stack's endpoints (default .devstack.json)")
    sms = commands.add_parser("sms", help="send the running stack an SMS reply from a customer's number")
    sms.add_argument("--from", dest="sender", required=True, help="the customer's number, e.g. +306944000111")
    sms.add_argument("--text", required=True, help='what they texted, e.g. "9" or "STOP"')
    sms.add_argument("--at", default=None, help="ISO time it arrives, or a time from now such as +12d (default now)")
    sms.add_argument("--state", type=Path, default=None, help="the running stack's endpoints (default .devstack.json)")
    chat = commands.add_parser("whatsapp", help="send the running stack a WhatsApp reply from a customer's number")
    chat.add_argument("--from", dest="sender", required=True, help="the customer's number, e.g. +306944000111")
    chat.add_argument("--text", required=True, help='what they wrote, e.g. "9" or "STOP"')
    chat.add_argument("--at", default=None, help="ISO time it arrives, or a time from now such as +12d (default now)")
    chat.add_argument("--state", type=Path, default=None, help="the running stack's endpoints (default .devstack.json)")
    env = commands.add_parser("env", help="print shell exports of the running stack's URLs and operator token")
    env.add_argument("--state", type=Path, default=None, help="the running stack's endpoints (default .devstack.json)")
    commands.add_parser("package", help="build the deployable package into build/package")
    commands.add_parser("compile-translations", help="compile .po catalogues to .mo")
    args = parser.parse_args(argv)

    if args.command == "compile-translations":
        from devstack.translations import compile_all

        compiled = compile_all()
        print(f"{len(compiled)} catalogue(s) compiled")
        return 0
    if args.command == "package":
        from devstack.package import PackageError, build

        try:
            out = build()
        except PackageError as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"package written to {out}: sam.json and deployment.zip")
        return 0
    if args.command == "env":
        from devstack.run import STATE, env_command

        return env_command(args.state or STATE)
    if args.command == "sms":
        from devstack.run import STATE, sms_command

        return sms_command(args.sender, args.text, args.at, args.state or STATE)
    if args.command == "whatsapp":
        from devstack.run import STATE, whatsapp_command

        return whatsapp_command(args.sender, args.text, args.at, args.state or STATE)
    if args.command == "tick":
        from devstack.run import STATE, tick_command

        return tick_command(args.at, args.state or STATE)
    from devstack.run import STATE, run_command

    return run_command(
        args.host,
        args.moto_port,
        args.api_port,
        args.outbox_port,
        scheduler=not args.no_scheduler,
        state=args.state or STATE,
    )


if __name__ == "__main__":
    sys.exit(main())
