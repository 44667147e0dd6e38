"""Time limits as data: the Measures' defaults, finer limits the city sets (Art 17)."""
