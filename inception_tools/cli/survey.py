"""``inception-tools survey``: serve the blind survey of a study on 127.0.0.1."""

from inception_tools.cli import options


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "survey",
        help="serve the blind survey of the features in groups.csv",
        description="Serve the features of STUDY/groups.csv in their blind order on 127.0.0.1. "
        "Each participant opens their own URL, which carries their secret token (kept in answers.tokens.json, "
        "the same after a restart): send each person only their own. One server per answers file (a second is "
        "refused): serve every participant from it. Answers are appended to the answers CSV (free text that "
        "starts like a spreadsheet formula gets a leading ') and a participant who comes back resumes at their "
        "first unanswered feature. Stop with Ctrl-C.",
    )
    parser.add_argument("--study", required=True, metavar="DIR", help="the study folder (with groups.csv)")
    parser.add_argument(
        "--participant", required=True, action="append", metavar="NAME",
        help="a participant allowed to answer (repeat for several)",
    )
    parser.add_argument("--port", type=options.port, default=0, help="port on 127.0.0.1 (default 0: any free port)")
    parser.add_argument("--answers", metavar="FILE", help="answers CSV (default STUDY/answers.csv)")
    parser.set_defaults(func=run)


def run(args):
    from inception_tools.survey import make_server

    server = make_server(args.study, args.participant, port=args.port, answers=args.answers)
    survey = server.survey
    print(f"survey of {len(survey.plan.features)} features; answers go to {survey.store.path}")
    for name in args.participant:
        print(f"  {name}: {server.url(name.strip())}")
    print("stop with Ctrl-C (answers are saved as they are given)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("survey stopped")
    finally:
        server.server_close()
    return 0
