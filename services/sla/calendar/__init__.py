"""The working-day calendar: years from chinesecalendar and from the official schedule."""
