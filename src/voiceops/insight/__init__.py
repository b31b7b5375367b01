"""Figures drawn from stored calls for the console and the command line: cost arithmetic
(``cost.py``). Pure functions over values the store hands over; nothing here renders HTML
or runs SQL."""
