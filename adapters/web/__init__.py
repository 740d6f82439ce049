"""The organizers' web dashboard: aiohttp routes, server-rendered HTML and SVG, CSV.

``DashboardRoutes(service, secure=...).routes()`` gives the routes to add to the bot's HTTP
listener; ``service`` is anything with the dashboard's methods (``core.dashboard.Dashboard``).
Like every adapter it never imports models, sessions or SQLAlchemy.
"""

from adapters.web.routes import DashboardRoutes, DashboardService

__all__ = ["DashboardRoutes", "DashboardService"]
