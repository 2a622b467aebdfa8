"""The region: zones, cells, facilities and police districts (``region``), the road graph
(``roads``), travel times by hour and mode (``travel``), and the tools that build the geodata from
open sources (``build``, ``osm``) and check it against published drive times (``drive_times``)."""
