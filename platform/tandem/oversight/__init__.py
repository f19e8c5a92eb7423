"""Program oversight: the supervisor's dashboard, trends over time and the program's health.

Read-only: it composes the other slices' `services` into figures; nothing imports it.
"""
