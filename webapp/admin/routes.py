"""Regional variants (地区变体): which variant each city and county runs, assigning one, and
the test bench that runs a variant's shipped files against its scenarios in a sandbox.

Admins only; every other role gets 403.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from workflows import deploy, testbench, variants

from . import bp


@bp.before_request
@login_required
def admins_only():
    if current_user.role != "admin":
        abort(403)


@bp.route("/variants")
def variant_index():
    """Cities and counties with their own assignment and what their schools run; the
    variants with the files each overrides."""
    known = variants.known()
    return render_template(
        "admin/variants.html",
        rows=variants.assignments(),
        known=known,
        shipped=set(deploy.shipped_variants()),
        files={v: variants.overridden_files(v) for v in known},
        label=variants.label,
    )


@bp.route("/variants/assign", methods=["POST"])
def assign_variant():
    org_code = request.form.get("org_code", "").strip()
    variant = request.form.get("variant", "").strip()
    try:
        org = variants.assign(org_code, variant, user=current_user)
    except variants.VariantError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.variant_index"))
    own = "已取消自己的指定" if org.variant is None else f"已指定为 {variants.label(org.variant)}"
    runs = variants.label(variants.variant_for(org))
    flash(f"{org.name}（{org.code}）{own}；其学校新发起的业务执行：{runs}。", "success")
    return redirect(url_for("admin.variant_index"))


@bp.route("/variants/<variant>/bench")
def variant_bench(variant: str):
    """Run the variant's shipped files against its scenarios in a sandbox (no real rows)."""
    if variant not in variants.known():
        abort(404)
    procedure = request.args.get("procedure")
    if procedure:
        if procedure not in testbench.procedures_with_scenarios(variant):
            abort(404)
        reports = [testbench.run_shipped(procedure, variant)]
    else:
        reports = testbench.run_variant(variant)
    return render_template(
        "admin/bench.html",
        variant=variant,
        label=variants.label,
        reports=reports,
        files=variants.overridden_files(variant),
    )
