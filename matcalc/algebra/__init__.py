"""The algebra engine behind ``simplify``: normal forms for elementwise algebra, the readable form
(shortest text, in the user's names) and the fast form (fewest floating-point operations for the
actual sizes)."""
