"""What members and organizers open in a browser or a calendar, on the bot's one HTTP listener
(``bot/web.py``): the organizers' dashboard (``DashboardRoutes``: server-rendered HTML and SVG,
CSV) and members' private links (``links.member_link_routes``: the calendar feed, the map
picture, Open in email). Like every adapter these only translate: each route calls the core's
front door and answers with what it gives; nothing here imports models, sessions or SQLAlchemy.
"""

from adapters.web.routes import DashboardRoutes, DashboardService

__all__ = ["DashboardRoutes", "DashboardService"]
