"""Conversation modules; each registers its own handlers. Order matters: commands first, free text last."""

from __future__ import annotations

from telegram.ext import Application


def register_handlers(app: Application) -> None:
    from handlers import (
        account,
        admin_views,
        check,
        checkreport,
        collect,
        command_args,
        declare,
        documents,
        due,
        evaluation,
        flow,
        listing,
        masking,
        objection,
        query,
        reminders,
        repair,
        report,
        start,
        stats,
        verify,
    )

    # Multi-step flows: one dispatcher ahead of everything (handlers/flow.py) gives an open flow the
    # user's next message; `collect` takes any other document; free-text questions come last. Ahead
    # of the flows, a command given what it does not take is refused and runs nothing.
    command_args.register(app)
    flow.register(app)
    modules = (
        start, account, stats, due, check, listing, masking, objection, repair, documents, declare, verify, report, checkreport,
        collect, reminders, admin_views, evaluation,
    )
    for module in (*modules, query):
        module.register(app)
    start.register_last(app)


def schedule_conversation_jobs(app: Application) -> None:
    """The conversations' own jobs (they send with the Application's bot): flows that timed out;
    listings taking effect and records leaving publication; the evaluation's full run and risk digest;
    notice retries."""
    from handlers import evaluation, flow, listing, masking, notify, repair

    flow.schedule(app)
    listing.schedule(app)
    repair.schedule(app)
    masking.schedule(app)
    notify.schedule(app)
    evaluation.schedule(app)
