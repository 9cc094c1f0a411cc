"""Pixels, their minute traffic buckets, signal filters and ingress domains."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tenantry.domain.pixels import (
    FilterKind,
    FilterState,
    IngressDomain,
    Pixel,
    SignalFilter,
    TrafficBucket,
    TrafficCount,
    TrafficTotals,
)
from tenantry.storage.gateway_tables import ingress_domains, pixel_traffic, pixels, signal_filters
from tenantry.storage.repositories.audit import _insert_for
from tenantry.storage.repositories.base import Repository

# Bounds the parameters of one statement (SQLite accepts 32,766; PostgreSQL 65,535).
_ID_CHUNK = 1000
_ROW_CHUNK = 500

_PIXEL_FIELDS = (
    "pixel_id",
    "business_id",
    "name",
    "external_id",
    "api_version",
    "access_token",
    "events_enabled",
    "capi_publish_enabled",
)


def to_pixel(row: Any) -> Pixel:
    return Pixel(
        id=row.id,
        account_id=row.account_id,
        created_at=row.created_at,
        **{name: getattr(row, name) for name in _PIXEL_FIELDS},
    )


def to_filter(row: Any) -> SignalFilter:
    return SignalFilter(
        account_id=row.account_id,
        kind=FilterKind(row.kind),
        value=row.value,
        state=FilterState(row.state),
        pixel_ids=None if row.pixel_ids is None else frozenset(row.pixel_ids),
        updated_at=row.updated_at,
    )


def to_ingress_domain(row: Any) -> IngressDomain:
    return IngressDomain(
        id=row.id,
        account_id=row.account_id,
        ingress=row.ingress,
        target_domain=row.target_domain,
        cname_resolve_success=row.cname_resolve_success,
        updated_at=row.updated_at,
    )


def _chunks(values: Collection[str]) -> list[list[str]]:
    ordered = sorted(set(values))
    return [ordered[i : i + _ID_CHUNK] for i in range(0, len(ordered), _ID_CHUNK)]


class SqlGatewayRepository(Repository):
    # -- pixels ----------------------------------------------------------------------------------

    def find_pixel(self, account_id: str, pixel_ref: str) -> Pixel | None:
        row = self._one(
            sa.select(pixels).where(pixels.c.id == pixel_ref, pixels.c.account_id == account_id)
        )
        return to_pixel(row) if row else None

    def find_pixel_by_pixel_id(self, account_id: str, pixel_id: str) -> Pixel | None:
        row = self._one(
            sa.select(pixels).where(
                pixels.c.account_id == account_id, pixels.c.pixel_id == pixel_id
            )
        )
        return to_pixel(row) if row else None

    def pixels(self, account_ids: Collection[str]) -> dict[str, list[Pixel]]:
        """Every pixel of these accounts, ordered by pixel id; one statement per 1,000 ids."""
        found: dict[str, list[Pixel]] = {}
        for chunk in _chunks(account_ids):
            rows = self.conn.execute(
                sa.select(pixels)
                .where(pixels.c.account_id.in_(chunk))
                .order_by(pixels.c.account_id, pixels.c.pixel_id)
            )
            for row in rows:
                found.setdefault(row.account_id, []).append(to_pixel(row))
        return found

    def count_pixels(self, account_id: str) -> int:
        count = self.conn.execute(
            sa.select(sa.func.count()).select_from(pixels).where(pixels.c.account_id == account_id)
        ).scalar_one()
        return int(count)

    def add_pixel(self, pixel: Pixel) -> None:
        self.conn.execute(
            pixels.insert().values(
                id=pixel.id,
                account_id=pixel.account_id,
                created_at=pixel.created_at,
                **{name: getattr(pixel, name) for name in _PIXEL_FIELDS},
            )
        )

    def update_pixel(self, pixel: Pixel) -> None:
        self.conn.execute(
            pixels.update()
            .where(pixels.c.id == pixel.id)
            .values(**{name: getattr(pixel, name) for name in _PIXEL_FIELDS})
        )

    def delete_pixel(self, pixel_ref: str) -> None:
        # The traffic goes with it (ON DELETE CASCADE); deleted explicitly as well, so the
        # outcome does not hang on SQLite's foreign-key pragma.
        self.conn.execute(pixel_traffic.delete().where(pixel_traffic.c.pixel_ref == pixel_ref))
        self.conn.execute(pixels.delete().where(pixels.c.id == pixel_ref))

    # -- traffic ---------------------------------------------------------------------------------

    def add_traffic(self, counts: Collection[TrafficCount], at: datetime) -> None:
        """Add counts to their minute buckets: one upsert per 500 buckets, each adding to what
        is stored, so concurrent reports for the same bucket all count. `counts` must hold one
        entry per (pixel, bucket)."""
        rows = [
            {
                "pixel_ref": c.pixel_ref,
                "bucket_start": c.bucket_start,
                "account_id": c.account_id,
                "events_received": c.events_received,
                "events_published": c.events_published,
                "publish_errors": c.publish_errors,
                "last_error_code": c.error_code,
                "updated_at": at,
            }
            for c in counts
        ]
        insert = _insert_for(self.conn)
        t = pixel_traffic.c
        for start in range(0, len(rows), _ROW_CHUNK):
            statement = insert(pixel_traffic).values(rows[start : start + _ROW_CHUNK])
            new = statement.excluded
            self.conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[t.pixel_ref, t.bucket_start],
                    set_={
                        "events_received": t.events_received + new.events_received,
                        "events_published": t.events_published + new.events_published,
                        "publish_errors": t.publish_errors + new.publish_errors,
                        "last_error_code": sa.func.coalesce(new.last_error_code, t.last_error_code),
                        "updated_at": new.updated_at,
                    },
                )
            )

    def traffic_by_account(
        self, account_ids: Collection[str], since: datetime, until: datetime
    ) -> dict[str, TrafficTotals]:
        """Totals per account over [since, until); one statement per 1,000 ids."""
        t = pixel_traffic.c
        with_traffic = sa.case((t.events_received > 0, t.pixel_ref))
        found: dict[str, TrafficTotals] = {}
        for chunk in _chunks(account_ids):
            rows = self.conn.execute(
                sa.select(
                    t.account_id,
                    sa.func.sum(t.events_received).label("received"),
                    sa.func.sum(t.events_published).label("published"),
                    sa.func.sum(t.publish_errors).label("errors"),
                    sa.func.count(sa.distinct(with_traffic)).label("pixels"),
                    sa.func.max(t.updated_at).label("updated"),
                )
                .where(t.account_id.in_(chunk), t.bucket_start >= since, t.bucket_start < until)
                .group_by(t.account_id)
            )
            for row in rows:
                found[row.account_id] = TrafficTotals(
                    events_received=int(row.received or 0),
                    events_published=int(row.published or 0),
                    publish_errors=int(row.errors or 0),
                    pixels_with_traffic=int(row.pixels or 0),
                    last_updated_at=row.updated,
                )
        return found

    def traffic_by_pixel(
        self, account_id: str, since: datetime, until: datetime
    ) -> dict[str, TrafficTotals]:
        """Totals per pixel (by signal config id) over [since, until), each with the error code
        of its latest bucket with publish errors; two statements."""
        t = pixel_traffic.c
        in_window = (t.account_id == account_id, t.bucket_start >= since, t.bucket_start < until)
        received = sa.case((t.events_received > 0, t.bucket_start))
        rows = self.conn.execute(
            sa.select(
                t.pixel_ref,
                sa.func.sum(t.events_received).label("received"),
                sa.func.sum(t.events_published).label("published"),
                sa.func.sum(t.publish_errors).label("errors"),
                sa.func.max(t.updated_at).label("updated"),
                sa.func.max(received).label("last_event"),
            )
            .where(*in_window)
            .group_by(t.pixel_ref)
        ).all()
        latest = (
            sa.select(
                t.pixel_ref,
                t.last_error_code,
                sa.func.row_number()
                .over(partition_by=t.pixel_ref, order_by=t.bucket_start.desc())
                .label("position"),
            )
            .where(*in_window, t.publish_errors > 0, t.last_error_code.is_not(None))
            .subquery()
        )
        codes = dict(
            self.conn.execute(
                sa.select(latest.c.pixel_ref, latest.c.last_error_code).where(
                    latest.c.position == 1
                )
            ).all()
        )
        return {
            row.pixel_ref: TrafficTotals(
                events_received=int(row.received or 0),
                events_published=int(row.published or 0),
                publish_errors=int(row.errors or 0),
                pixels_with_traffic=1 if row.received else 0,
                last_error_code=codes.get(row.pixel_ref),
                last_updated_at=row.updated,
                last_event_at=row.last_event,
            )
            for row in rows
        }

    def traffic_by_minute(
        self,
        account_id: str,
        pixel_refs: Collection[str] | None,
        since: datetime,
        until: datetime,
    ) -> list[TrafficBucket]:
        """Sums over the selected pixels (None: all) per minute bucket, oldest first."""
        t = pixel_traffic.c
        query = (
            sa.select(
                t.bucket_start,
                sa.func.sum(t.events_received).label("received"),
                sa.func.sum(t.events_published).label("published"),
                sa.func.sum(t.publish_errors).label("errors"),
            )
            .where(t.account_id == account_id, t.bucket_start >= since, t.bucket_start < until)
            .group_by(t.bucket_start)
            .order_by(t.bucket_start)
        )
        if pixel_refs is not None:
            query = query.where(t.pixel_ref.in_(sorted(set(pixel_refs))))
        return [
            TrafficBucket(
                start=row.bucket_start,
                events_received=int(row.received or 0),
                events_published=int(row.published or 0),
                publish_errors=int(row.errors or 0),
            )
            for row in self.conn.execute(query)
        ]

    # -- signal filters --------------------------------------------------------------------------

    def filters(self, account_id: str, kind: FilterKind) -> list[SignalFilter]:
        f = signal_filters.c
        rows = self.conn.execute(
            sa.select(signal_filters)
            .where(f.account_id == account_id, f.kind == kind.value)
            .order_by(f.value)
        )
        return [to_filter(row) for row in rows]

    def find_filter(
        self, account_id: str, kind: FilterKind, value: str, *, for_update: bool = False
    ) -> SignalFilter | None:
        f = signal_filters.c
        query = sa.select(signal_filters).where(
            f.account_id == account_id, f.kind == kind.value, f.value == value
        )
        if for_update:  # read-modify-write: PostgreSQL locks the row; SQLite's writer lock holds
            query = query.with_for_update()
        row = self._one(query)
        return to_filter(row) if row else None

    def add_filter(self, signal_filter: SignalFilter) -> None:
        self.conn.execute(
            signal_filters.insert().values(
                account_id=signal_filter.account_id,
                kind=signal_filter.kind.value,
                value=signal_filter.value,
                **_filter_values(signal_filter),
            )
        )

    def update_filter(self, signal_filter: SignalFilter) -> None:
        f = signal_filters.c
        self.conn.execute(
            signal_filters.update()
            .where(
                f.account_id == signal_filter.account_id,
                f.kind == signal_filter.kind.value,
                f.value == signal_filter.value,
            )
            .values(**_filter_values(signal_filter))
        )

    def delete_filter(self, account_id: str, kind: FilterKind, value: str) -> None:
        f = signal_filters.c
        self.conn.execute(
            signal_filters.delete().where(
                f.account_id == account_id, f.kind == kind.value, f.value == value
            )
        )

    # -- ingress domains -------------------------------------------------------------------------

    def find_ingress_domain(self, account_id: str) -> IngressDomain | None:
        row = self._one(
            sa.select(ingress_domains).where(ingress_domains.c.account_id == account_id)
        )
        return to_ingress_domain(row) if row else None

    def find_ingress_domain_by_host(self, ingress: str) -> IngressDomain | None:
        row = self._one(sa.select(ingress_domains).where(ingress_domains.c.ingress == ingress))
        return to_ingress_domain(row) if row else None

    def add_ingress_domain(self, domain: IngressDomain) -> None:
        self.conn.execute(
            ingress_domains.insert().values(
                account_id=domain.account_id, id=domain.id, **_ingress_values(domain)
            )
        )

    def update_ingress_domain(self, domain: IngressDomain) -> None:
        self.conn.execute(
            ingress_domains.update()
            .where(ingress_domains.c.account_id == domain.account_id)
            .values(**_ingress_values(domain))
        )


def _filter_values(signal_filter: SignalFilter) -> dict[str, Any]:
    ids = signal_filter.pixel_ids
    return {
        "state": signal_filter.state.value,
        "pixel_ids": None if ids is None else sorted(ids),
        "updated_at": signal_filter.updated_at,
    }


def _ingress_values(domain: IngressDomain) -> dict[str, Any]:
    return {
        "ingress": domain.ingress,
        "target_domain": domain.target_domain,
        "cname_resolve_success": domain.cname_resolve_success,
        "updated_at": domain.updated_at,
    }
