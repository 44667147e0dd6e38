"""The ticket workflow of Art 13–22: who holds a ticket and what state it is in."""
