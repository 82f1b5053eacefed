"""The web layer: pages, the JSON API and the command line, on top of the engine
(`workflows`), the automatic steps (`handlers`) and the forms (`forms`).

The application factory is `webapp.app.create_app`; the tables are `webapp.models`, the one
part of this package that the layers below may import.
"""
