"""The bookstore API on Quart, Tortoise ORM and Hypercorn (see the migration guide)."""
