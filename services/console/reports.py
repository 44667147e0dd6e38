"""统计报表: the supervisor's charts (volume and lateness by week, unit and category, drawn by
the vendored ECharts) and the KPI table of every unit for a period, sortable, with each
table exportable to Excel (.xlsx: the table, then a sheet with the period and definitions)."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from hotline_client.api import Calls
from openpyxl import Workbook
from openpyxl.styles import Font

from console.app import SHANGHAI, client_for, labels, shown, sla_now
from console.pages import agency_user, posted_form, render, then_back
from shared.errors import BadInput, NotFound

router = APIRouter()
# The supervisor's clock lists that export: (sheet title, the dashboard call).
CLOCK_LISTS: dict[str, tuple[str, Any]] = {
    "overdue": ("超期事项", Calls.overdue),
    "due-soon": ("即将超期事项", Calls.due_soon),
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The KPI table's columns: (field, heading, how it is shown); rates as percentages.
KPI_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("received", "受理量", "n"),
    ("closed", "办结量", "n"),
    ("on_time_rate", "按时办结率", "%"),
    ("overdue", "超期件数", "n"),
    ("working_days_late", "超期工作日", "n"),
    ("return_rate", "退回率", "%"),
    ("upheld_return_rate", "退回成立率", "%"),
    ("extension_rate", "延期率", "%"),
    ("rehandling_rate", "重办率", "%"),
    ("satisfaction_rate", "满意率", "%"),
    ("resolution_rate", "解决率", "%"),
    ("judged_resolution_rate", "解决率（工作机构判断）", "%"),
    ("response_rate", "响应率", "%"),
    ("response_hours", "平均签收时长（小时）", "h"),
    ("supervisions", "督办件数", "n"),
)
# What each column means, for the export's second sheet (docs/kpis.md says it in full).
DEFINITIONS = {
    "受理量": "期间内开始办理时限的热线事项数",
    "办结量": "期间内办结（提交办理反馈）的办理时限数",
    "按时办结率": "办结中在办理期限内办结的比例",
    "超期件数": "期间内超期办结的件数与到期仍未办结的件数之和",
    "超期工作日": "超期办结的事项超出期限的工作日之和",
    "退回率": "退回申请数 ÷ 受理量",
    "退回成立率": "热线工作机构同意的退回 ÷ 退回申请数",
    "延期率": "延期的事项数 ÷ 受理量",
    "重办率": "退回重办数 ÷ 已评价数",
    "满意率": "满意与基本满意 ÷ 已评价数（不含不评价）",
    "解决率": "诉求人表示已解决 ÷ 表态是否解决的评价数（部分解决不计入已解决）",
    "解决率（工作机构判断）": "审核通过反馈时判断已解决 ÷ 作出判断的件数",
    "响应率": "按时联系诉求人的件数 ÷ 应联系件数（已联系或已过联系时限的，不含退回）",
    "平均签收时长（小时）": "派单至签收的平均小时数",
    "督办件数": "期间内对该单位开启且未撤回的督办数",
}


def period(today: date, date_from: str, date_to: str) -> tuple[date, date]:
    """The period asked for; by default this month so far (Beijing days)."""
    try:
        start = date.fromisoformat(date_from) if date_from else today.replace(day=1)
        end = date.fromisoformat(date_to) if date_to else today
    except ValueError:
        raise BadInput("dates are YYYY-MM-DD", zh="日期格式应为 年-月-日，如 2026-12-01") from None
    if end < start:
        raise BadInput("'to' is before 'from'", zh="结束日期早于开始日期")
    return start, end


def cell(value: Any, how: str) -> str:
    """A KPI as the table shows it: rates in per cent, hours to one place, '—' for none."""
    if value is None:
        return "—"
    if how == "%":
        return f"{value * 100:.1f}%"
    if how == "h":
        return f"{value:.1f}"
    return str(value)


def sorted_rows(items: list[dict[str, Any]], sort: str, descending: bool) -> list[dict[str, Any]]:
    """The table in the order asked for; units without a value (no rate yet) go last."""
    fields = {f for f, _, _ in KPI_COLUMNS} | {"unit"}
    key = sort if sort in fields else "received"
    present = [i for i in items if i.get(key) is not None]
    missing = [i for i in items if i.get(key) is None]
    return sorted(present, key=lambda i: i[key], reverse=descending) + missing


def workbook(
    title: str, headings: list[str], rows: list[list[Any]], notes: dict[str, str]
) -> bytes:
    """An .xlsx of one table, and a second sheet 说明 with the period and the definitions."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(headings)
    for heading in sheet[1]:
        heading.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for column, heading in zip(sheet.columns, headings, strict=False):
        sheet.column_dimensions[column[0].column_letter].width = max(10, len(heading) * 2 + 2)
    about = book.create_sheet("说明")
    for name, meaning in notes.items():
        about.append([name, meaning])
    about.column_dimensions["A"].width = 24
    about.column_dimensions["B"].width = 60
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def attachment(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


async def _today(request: Request, token: str) -> tuple[date, datetime]:
    """Today in Beijing on sla's clock, and the instant."""
    at = await sla_now(request, token)
    return at.astimezone(SHANGHAI).date(), at


async def _unit_names(request: Request, token: str) -> dict[str, str]:
    client = client_for(request, token)
    units = (await client.run(client.units(inactive=True))).value
    return {u.id: u.name for u in units.items} if units else {}


async def _kpis(
    request: Request, token: str, start: date, end: date, names: dict[str, str]
) -> list[dict[str, Any]]:
    client = client_for(request, token)
    found = (await client.run(client.kpis_of_units(start.isoformat(), end.isoformat()))).value
    return [{**k, "name": names.get(k["unit"], k["unit"])} for k in (found.items if found else [])]


@router.get("/reports", response_class=HTMLResponse)
async def reports(
    request: Request,
    date_from: str = "",
    date_to: str = "",
    sort: str = "received",
    order: str = "desc",
) -> Response:
    """Charts of volume and lateness, and every unit's KPIs for the period, sortable."""
    token, _ = agency_user(request)
    today, _ = await _today(request, token)
    start, end = period(today, date_from, date_to)
    client = client_for(request, token)
    names = await labels(request, token)
    units = await _unit_names(request, token)
    charted = (("week", None), ("unit", 15), ("category", 10))
    # The charts' counts and the table are independent reads: asked for at once.
    table = asyncio.create_task(_kpis(request, token, start, end, units))
    volumes = await asyncio.gather(
        *(client.run(client.volume(by, start.isoformat(), end.isoformat())) for by, _ in charted)
    )
    kpis = await table
    charts: dict[str, Any] = {}
    for (by, limit), answer in zip(charted, volumes, strict=True):
        groups = (answer.value.groups if answer.value else [])[:limit]
        keys = [g.key or "未注明" for g in groups]
        if by == "category":
            keys = [names.get("category", {}).get(k, k) for k in keys]
        elif by == "unit":
            keys = [units.get(k, k) for k in keys]
        charts[by] = {
            "keys": keys,
            "received": [g.received for g in groups],
            "late": [g.late for g in groups],
        }
    rows = sorted_rows(kpis, sort, order != "asc")
    return render(
        request,
        "reports.html",
        {
            "date_from": start.isoformat(),
            "date_to": end.isoformat(),
            "sort": sort,
            "order": order,
            "columns": KPI_COLUMNS,
            "rows": [
                {
                    "unit": r["unit"],
                    "name": r["name"],
                    **{f: cell(r[f], h) for f, _, h in KPI_COLUMNS},
                }
                for r in rows
            ],
            "charts": {k: json.dumps(v, ensure_ascii=False) for k, v in charts.items()},
        },
    )


@router.get("/reports/kpis.xlsx")
async def kpis_export(
    request: Request, date_from: str = "", date_to: str = "", sort: str = "received"
) -> Response:
    """The KPI table as an .xlsx: rates as numbers (0–1) a spreadsheet can compute with."""
    token, user = agency_user(request)
    today, at = await _today(request, token)
    start, end = period(today, date_from, date_to)
    units = await _unit_names(request, token)
    rows = sorted_rows(await _kpis(request, token, start, end, units), sort, True)
    headings = ["单位编码", "单位名称", *(h for _, h, _ in KPI_COLUMNS)]
    table = [[r["unit"], r["name"], *(r[f] for f, _, _ in KPI_COLUMNS)] for r in rows]
    notes = {
        "统计期间": f"{start.isoformat()} 至 {end.isoformat()}（北京时间）",
        "导出时间": shown(at),
        "导出人": user.subject,
        "比率": "以小数表示（0.95 即 95%）；无数据的为空",
        **DEFINITIONS,
    }
    content = workbook("承办单位考核指标", headings, table, notes)
    return attachment(content, f"承办单位考核指标_{start.isoformat()}_{end.isoformat()}.xlsx")


@router.get("/supervisor/{which}.xlsx")
async def clocks_export(
    request: Request, which: str, district: str = "", unit: str = ""
) -> Response:
    """The overdue or due-soon clocks (of a district or unit, as drilled down to)."""
    token, user = agency_user(request)
    if which not in CLOCK_LISTS:
        raise NotFound(f"no list {which!r}", zh="没有这份清单")
    title, read = CLOCK_LISTS[which]
    client = client_for(request, token)
    filters = {k: v for k, v in {"district": district, "unit": unit}.items() if v}
    found = (await client.run(read("unit", limit=1000, **filters))).value
    names = await labels(request, token)
    _, at = await _today(request, token)
    headings = ["编号", "热线事项", "承办单位", "行政区", "时限", "期限", "期限待定"]
    if which == "overdue":
        headings.append("已超期（工作日）")
    table = [
        [
            i.number or "",
            i.ticket_id,
            i.unit_id or "",
            i.district or "",
            names.get("clock_kind", {}).get(i.clock, i.clock),
            shown(i.due_at),
            "是" if i.provisional else "",
            *([i.working_days_late] if which == "overdue" else []),
        ]
        for i in (found.items if found else [])
    ]
    notes = {
        "范围": " › ".join(v for v in ("全市", district, unit) if v),
        "件数": str(found.total if found else 0),
        "说明": "列出最早到期的至多 1000 条；时间为北京时间",
        "导出时间": shown(at),
        "导出人": user.subject,
    }
    return attachment(workbook(title, headings, table, notes), f"{title}.xlsx")


@router.get("/supervisions.xlsx")
async def supervisions_export(request: Request) -> Response:
    """The supervision register (Art 23): every supervision, open, answered and closed."""
    token, user = agency_user(request)
    client = client_for(request, token)
    found = (await client.run(client.supervisions(limit=1000))).value
    names = await labels(request, token)
    _, at = await _today(request, token)
    headings = [
        "编号",
        "承办单位",
        "督办原因",
        "方式",
        "发起时间",
        "承办单位回复",
        "回复时间",
        "办结时间",
        "状态",
    ]
    table = [
        [
            r.number or r.ticket_id,
            r.unit_id or "",
            names.get("supervision_reason", {}).get(r.reason, r.reason),
            names.get("supervision_method", {}).get(r.method, r.method),
            shown(r.opened_at),
            r.response or "",
            shown(r.responded_at),
            shown(r.closed_at),
            "已办结" if r.closed_at else "已回复" if r.responded_at else "待回复",
        ]
        for r in (found.items if found else [])
    ]
    notes = {
        "导出时间": shown(at),
        "导出人": user.subject,
        "说明": "至多 1000 条；时间为北京时间",
    }
    return attachment(workbook("督办台账", headings, table, notes), "督办台账.xlsx")


MEASURE_NAMES = {field: heading for field, heading, _ in KPI_COLUMNS}


def _month(today: date, month: str) -> str:
    """The month asked for, by default the last whole one (the one cities publish)."""
    return month or f"{today.replace(day=1) - timedelta(days=1):%Y-%m}"


@router.get("/reports/ranking", response_class=HTMLResponse)
async def ranking(request: Request, month: str = "") -> Response:
    """月度考核排名: every unit's score, rank and places moved against the month before."""
    token, _ = agency_user(request)
    today, _ = await _today(request, token)
    month = _month(today, month)
    client = client_for(request, token)
    found = (await client.run(client.ranking(month))).value
    units = await _unit_names(request, token)
    rows = [{**r, "name": units.get(r["unit"], r["unit"])} for r in (found.items if found else [])]
    return render(request, "ranking.html", {"month": month, "rows": rows})


@router.get("/reports/ranking.xlsx")
async def ranking_export(request: Request, month: str = "") -> Response:
    token, user = agency_user(request)
    today, at = await _today(request, token)
    month = _month(today, month)
    client = client_for(request, token)
    found = (await client.run(client.ranking(month))).value
    units = await _unit_names(request, token)
    headings = ["排名", "名次变化", "单位编码", "单位名称", "得分", "扣分", "受理量"]
    table = [
        [
            r["rank"],
            r["change"],
            r["unit"],
            units.get(r["unit"], r["unit"]),
            r["score"],
            r["deducted"],
            r["received"],
        ]
        for r in (found.items if found else [])
    ]
    notes = {
        "考核月份": f"{month}（北京时间）",
        "导出时间": shown(at),
        "导出人": user.subject,
        "得分": "各项指标按权重计分（满分100，无数据的指标不计并按比例折算），再减去督办扣分",
        "名次变化": "与上月相比上升（正数）或下降（负数）的名次；上月未参加排名的为空",
        "排名": "得分相同名次相同；当月无可考核数据的单位不排名",
    }
    content = workbook("月度考核排名", headings, table, notes)
    return attachment(content, f"月度考核排名_{month}.xlsx")


@router.get("/reports/ranking/{unit_id}", response_class=HTMLResponse)
async def ranking_explained(request: Request, unit_id: str, month: str = "") -> Response:
    """Why a unit scored what it did: each measure's points, the tickets that cost them, and
    the unit's last twelve months."""
    token, _ = agency_user(request)
    today, _ = await _today(request, token)
    month = _month(today, month)
    client = client_for(request, token)
    found, months = await asyncio.gather(
        client.run(client.ranking_of(unit_id, month)), _trend(client, unit_id, month)
    )
    units = await _unit_names(request, token)
    return render(
        request,
        "ranking_unit.html",
        {
            "month": month,
            "unit_id": unit_id,
            "name": units.get(unit_id, unit_id),
            "unit": found.value.unit if found.value else {},
            "tickets": found.value.tickets if found.value else [],
            "measures": MEASURE_NAMES,
            "reasons": (await labels(request, token)).get("cost_reason", {}),
            "columns": HEADLINE,
            "trend": [
                {"month": m["key"][:7], "cells": [cell(m.get(f), how) for f, _, how in HEADLINE]}
                for m in months
            ],
        },
    )


async def _trend(client: Any, unit_id: str, month: str) -> list[dict[str, Any]]:
    """A unit's measures month by month, the twelve months to ``month``."""
    last = _month_span(month)[1]
    first = date(last.year - 1 + last.month // 12, last.month % 12 + 1, 1)  # 11 months before
    found = await client.run(
        client.kpis_trend(unit_id, "month", first.isoformat(), last.isoformat())
    )
    return list(found.value.items) if found.value else []


@router.get("/reports/ranking/{unit_id}/trend.xlsx")
async def trend_export(request: Request, unit_id: str, month: str = "") -> Response:
    """A unit's twelve months to ``month`` as an .xlsx (rates as numbers 0–1)."""
    token, user = agency_user(request)
    today, at = await _today(request, token)
    month = _month(today, month)
    client = client_for(request, token)
    months = await _trend(client, unit_id, month)
    name = (await _unit_names(request, token)).get(unit_id, unit_id)
    rows = [[m["key"][:7], *(m.get(f) for f, _, _ in HEADLINE)] for m in months]
    notes = {
        "承办单位": f"{name}（{unit_id}）",
        "期间": f"截至 {month} 的十二个月（北京时间，按自然月）",
        "导出时间": shown(at),
        "导出人": user.subject,
        "比率": "以小数表示（0.95 即 95%）；无数据的为空",
        **{h: DEFINITIONS[h] for _, h, _ in HEADLINE},
    }
    content = workbook("逐月走势", ["月份", *(h for _, h, _ in HEADLINE)], rows, notes)
    return attachment(content, f"逐月走势_{name}_{month}.xlsx")


def _month_span(month: str) -> tuple[date, date]:
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise BadInput("month is YYYY-MM", zh="月份格式应为 年-月，如 2026-11") from None
    return first, (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _breakdowns(client: Any, span: tuple[str, str], where: str | None) -> list[Any]:
    """The month's KPIs of all tickets; by district, or for one district by street; by
    category (calls to await)."""
    return [
        client.run(client.kpis_breakdown(by, *span, district=where))
        for by in ("all", "street" if where else "district", "category")
    ]


# The month's headline figures: (field, heading, how shown), from the KPIs of all tickets.
HEADLINE = (
    ("received", "受理量", "n"),
    ("closed", "办结量", "n"),
    ("on_time_rate", "按时办结率", "%"),
    ("satisfaction_rate", "满意率", "%"),
    ("resolution_rate", "解决率", "%"),
    ("response_rate", "响应率", "%"),
    ("overdue", "超期件数", "n"),
    ("supervisions", "督办件数", "n"),
)


@router.get("/reports/monthly", response_class=HTMLResponse)
async def monthly_report(request: Request, month: str = "", district: str = "") -> Response:
    """The month's report a supervisor forwards: headline figures, lateness week by week,
    the units' ranking, and the figures by district and by category — one page that prints
    to PDF (the browser's 打印 › 另存为 PDF); for the city or one district."""
    token, user = agency_user(request)
    today, at = await _today(request, token)
    month = _month(today, month)
    first, last = _month_span(month)
    where = district or user.district or None
    client = client_for(request, token)
    span = (first.isoformat(), last.isoformat())
    whole, districts, categories, ranked, weeks = await asyncio.gather(
        *_breakdowns(client, span, where),
        client.run(client.ranking(month, district=where)),
        client.run(client.volume("week", *span, district=where)),
    )
    names = await labels(request, token)
    units = await _unit_names(request, token)
    totals = whole.value.items[0] if whole.value and whole.value.items else {}
    by_category = sorted(
        categories.value.items if categories.value else [], key=lambda g: -g["received"]
    )[:10]
    week_groups = weeks.value.groups if weeks.value else []
    chart = {
        "keys": [f"{g.key}周" for g in week_groups],
        "received": [g.received for g in week_groups],
        "late": [g.late for g in week_groups],
    }
    return render(
        request,
        "monthly.html",
        {
            "month": month,
            "title": f"{first.year}年{first.month}月",
            "place": where or "全市",
            "district": district,
            "headline": [(h, cell(totals.get(f), how)) for f, h, how in HEADLINE],
            "ranking": [
                {**r, "name": units.get(r["unit"], r["unit"])}
                for r in (ranked.value.items if ranked.value else [])
            ],
            "districts": [
                {"key": g["key"] or "未注明", **{f: cell(g.get(f), how) for f, _, how in HEADLINE}}
                for g in (districts.value.items if districts.value else [])
            ],  # for one district: its streets
            "categories": [
                {
                    "key": names.get("category", {}).get(g["key"], g["key"] or "未分类"),
                    **{f: cell(g.get(f), how) for f, _, how in HEADLINE},
                }
                for g in by_category
            ],
            "columns": HEADLINE,
            "chart": json.dumps(chart, ensure_ascii=False),
            "generated": shown(at),
        },
    )


@router.get("/reports/monthly.xlsx")
async def monthly_export(request: Request, month: str = "", district: str = "") -> Response:
    """The monthly report's figures as an .xlsx: all tickets, by district (for one district:
    by street), by category (rates as numbers 0–1), with the month and the definitions on the
    second sheet."""
    token, user = agency_user(request)
    today, at = await _today(request, token)
    month = _month(today, month)
    first, last = _month_span(month)
    where = district or user.district or None
    client = client_for(request, token)
    whole, districts, categories = await asyncio.gather(
        *_breakdowns(client, (first.isoformat(), last.isoformat()), where)
    )
    names = (await labels(request, token)).get("category", {})
    rows = []
    for kind, answer, name in (
        ("合计", whole, lambda key: where or "全市"),
        ("街道（镇）" if where else "行政区", districts, lambda key: key or "未注明"),
        ("事项分类", categories, lambda key: names.get(key, key or "未分类")),
    ):
        for g in answer.value.items if answer.value else []:
            rows.append([kind, name(g["key"]), *(g.get(f) for f, _, _ in HEADLINE)])
    headings = ["类别", "分组", *(h for _, h, _ in HEADLINE)]
    notes = {
        "统计月份": f"{month}（北京时间）",
        "范围": where or "全市",
        "导出时间": shown(at),
        "导出人": user.subject,
        "比率": "以小数表示（0.95 即 95%）；无数据的为空",
        **{h: DEFINITIONS[h] for _, h, _ in HEADLINE},
    }
    content = workbook("月度分组指标", headings, rows, notes)
    return attachment(content, f"月度报告_{where or '全市'}_{month}.xlsx")


def _last_monday(today: date, week: str) -> str:
    """The Monday asked for, by default the last whole week's."""
    return week or (today - timedelta(days=today.weekday() + 7)).isoformat()


@router.get("/reports/hotspots", response_class=HTMLResponse)
async def hotspots(request: Request, week: str = "", notice: str = "", error: str = "") -> Response:
    """热点研判: the week's hotspots (sla) and clusters (intake), with the decisions on them."""
    token, _ = agency_user(request)
    today, _ = await _today(request, token)
    week = _last_monday(today, week)
    client = client_for(request, token)
    found, clusters, decisions = await asyncio.gather(
        client.run(client.hotspots(week)),
        client.run(client.clusters(week)),
        client.run(client.hotspot_reviews(week)),
    )
    latest = {r.cluster: r for r in (decisions.value.items if decisions.value else []) if r.cluster}
    context = {
        "week": week,
        "hotspots": found.value.items if found.value else [],
        "clusters": clusters.value.items if clusters.value else [],
        "cluster_reviews": latest,
        "units": await _unit_names(request, token),
        "labels": await labels(request, token),
        "notice": notice,
        "error": error,
    }
    return render(request, "hotspots.html", context)


@router.post("/reports/hotspots/review")
async def review_hotspot(request: Request) -> Response:
    """A decision on a hotspot or a cluster, from the page's form; a cluster's tickets are
    read again from intake, so the decision covers what intake finds now."""
    token, _ = agency_user(request)
    form = await posted_form(request, token)
    names = ("week", "category", "district", "street", "cluster", "decision", "method", "note")
    field = {k: str(form.get(k) or "").strip() or None for k in names}
    week = field["week"] or ""
    back = f"/reports/hotspots?week={quote(week)}"
    client = client_for(request, token)
    body: dict[str, Any] = {k: v for k, v in field.items() if v is not None and k != "cluster"}
    if field["cluster"]:
        found = (await client.run(client.clusters(week))).value
        listed = found.items if found else []
        match = next((c for c in listed if c["key"] == field["cluster"]), None)
        if match is None:
            raise NotFound("no such cluster that week", zh="该周没有这个多人反映事项")
        body |= {"cluster": field["cluster"], "tickets": [t["ticket_id"] for t in match["tickets"]]}
    done = "已督办在办事项" if field["decision"] == "supervised" else "已标记为已研判"
    return await then_back(client, client.review_hotspot(body), back, done)
