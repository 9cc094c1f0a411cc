"""Storage: tables, repositories, the unit of work and migrations. The only place that knows SQL."""
