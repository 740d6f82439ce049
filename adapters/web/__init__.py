"""Pages and files members open in a browser or a calendar, on the bot's one HTTP listener
(``bot/web.py``). Like every adapter, these only translate: each route calls one front-door
method of the core (``core.service.Rapport``) and answers with what it gives."""
