"""Helpers for handler tests: row counts and nudges of a member."""

from sqlalchemy import func, select

from core.models import Base, ContactRow, Member, Nudge


async def row_counts(sessionmaker) -> dict[str, int]:
    async with sessionmaker() as session:
        return {
            table.name: await session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }


async def nudges_of(sessionmaker, user_id: str, status=("pending",)) -> list[Nudge]:
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(Nudge)
            .join(Member, Member.id == Nudge.member_id)
            .where(Member.user_id == user_id, Nudge.status.in_(status))
            .order_by(Nudge.due_at)
        )
        return list(rows)


async def contact(sessionmaker, name: str) -> ContactRow:
    async with sessionmaker() as session:
        return await session.scalar(select(ContactRow).where(ContactRow.name == name))
