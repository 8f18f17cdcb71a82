"""The static page that runs teacher and student in the browser; `builder.build_site` assembles it."""
