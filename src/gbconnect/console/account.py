"""A staff member's own account at ``/console/account``: the optional second factor
(TOTP, RFC 6238, :mod:`gbconnect.accounts.totp`), turned on with a code from the app
(ten recovery codes shown once) and off with a code. Every staff member may, whatever
the role; both changes are audited (``staff.totp_on`` / ``staff.totp_off``)."""

from __future__ import annotations

from starlette.responses import Response

from gbconnect.accounts import totp
from gbconnect.audit import record
from gbconnect.console.pages import Console, Ctx

ENROLLING = "staff_totp_enrolling"


def install(console: Console) -> None:
    issuer = f"{console.settings.utility_name} console"

    def enrolling(ctx: Ctx, key: str, status: int = 200, error: str | None = None) -> Response:
        uri = totp.provisioning_uri(key, ctx.staff.email, issuer)
        qr = totp.qr_code(uri)
        return ctx.page(
            "account.html",
            status,
            enrolling=True,
            key=totp.grouped(key),
            uri=uri,
            qr=qr.data_uri,
            qr_size=qr.size,
            error=error,
        )

    @console.view("/account")
    def account(ctx: Ctx) -> Response:
        return ctx.page("account.html", done=ctx.request.query_params.get("done", "")[:20])

    @console.view("/account/totp/start", post=True)
    def totp_start(ctx: Ctx) -> Response:
        if ctx.staff.totp_secret:
            return ctx.redirect("/console/account")
        key = totp.new_key()
        ctx.request.session[ENROLLING] = key
        return enrolling(ctx, key)

    @console.view("/account/totp/confirm", post=True)
    def totp_confirm(ctx: Ctx) -> Response:
        key = ctx.request.session.get(ENROLLING)
        if not isinstance(key, str) or ctx.staff.totp_secret:
            return ctx.redirect("/console/account")
        if not totp.fresh_code(key, ctx.form.get("code", "")):
            return enrolling(
                ctx, key, 400, "That code is not right. Type the 6 digits your app shows now."
            )
        codes, digests = totp.recovery_codes()
        ctx.staff.totp_secret, ctx.staff.totp_recovery = key, digests
        record(ctx.session, "staff.totp_on", ctx.actor, ("staff", ctx.staff.id))
        ctx.session.commit()
        ctx.request.session.pop(ENROLLING, None)
        return ctx.page("account.html", recovery=codes)

    @console.view("/account/totp/off", post=True)
    def totp_off(ctx: Ctx) -> Response:
        if not ctx.staff.totp_secret:
            return ctx.redirect("/console/account")
        ok, _left = totp.check(
            ctx.staff.totp_secret, ctx.staff.totp_recovery, ctx.form.get("code", "")
        )
        if not ok:
            return ctx.page(
                "account.html", 400, error="That code is not right; the second step stays on."
            )
        ctx.staff.totp_secret, ctx.staff.totp_recovery = None, None
        record(ctx.session, "staff.totp_off", ctx.actor, ("staff", ctx.staff.id))
        ctx.session.commit()
        return ctx.redirect("/console/account?done=totp-off")


__all__ = ["install"]
