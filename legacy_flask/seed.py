"""Sample data: a few dozen real books with valid ISBN-13s, for the demo and the benchmarks.

Framework-free and shared by both apps, so both seed identical rows.
"""

from __future__ import annotations

from legacy_flask.isbn import isbn13_check_digit

#: (title, author, year, price in cents) of well-known books.
_BOOKS: tuple[tuple[str, str, int, int], ...] = (
    ("Pride and Prejudice", "Jane Austen", 1813, 899),
    ("Emma", "Jane Austen", 1815, 999),
    ("Frankenstein", "Mary Shelley", 1818, 799),
    ("Moby-Dick", "Herman Melville", 1851, 1299),
    ("Bleak House", "Charles Dickens", 1853, 1399),
    ("Great Expectations", "Charles Dickens", 1861, 1099),
    ("Crime and Punishment", "Fyodor Dostoevsky", 1866, 1499),
    ("War and Peace", "Leo Tolstoy", 1869, 1999),
    ("Middlemarch", "George Eliot", 1871, 1299),
    ("Anna Karenina", "Leo Tolstoy", 1878, 1599),
    ("The Brothers Karamazov", "Fyodor Dostoevsky", 1880, 1699),
    ("Germinal", "Émile Zola", 1885, 1199),
    ("The Picture of Dorian Gray", "Oscar Wilde", 1890, 899),
    ("Dracula", "Bram Stoker", 1897, 999),
    ("Heart of Darkness", "Joseph Conrad", 1899, 699),
    ("Buddenbrooks", "Thomas Mann", 1901, 1599),
    ("The Metamorphosis", "Franz Kafka", 1915, 599),
    ("Ulysses", "James Joyce", 1922, 1799),
    ("Mrs Dalloway", "Virginia Woolf", 1925, 999),
    ("The Great Gatsby", "F. Scott Fitzgerald", 1925, 1099),
    ("The Trial", "Franz Kafka", 1925, 899),
    ("To the Lighthouse", "Virginia Woolf", 1927, 999),
    ("Brave New World", "Aldous Huxley", 1932, 1199),
    ("Their Eyes Were Watching God", "Zora Neale Hurston", 1937, 1099),
    ("The Grapes of Wrath", "John Steinbeck", 1939, 1399),
    ("The Stranger", "Albert Camus", 1942, 899),
    ("Nineteen Eighty-Four", "George Orwell", 1949, 1099),
    ("Invisible Man", "Ralph Ellison", 1952, 1299),
    ("Lolita", "Vladimir Nabokov", 1955, 1199),
    ("Things Fall Apart", "Chinua Achebe", 1958, 999),
    ("To Kill a Mockingbird", "Harper Lee", 1960, 1099),
    ("One Hundred Years of Solitude", "Gabriel García Márquez", 1967, 1499),
    ("Dune", "Frank Herbert", 1965, 1299),
    ("The Left Hand of Darkness", "Ursula K. Le Guin", 1969, 1099),
    ("Beloved", "Toni Morrison", 1987, 1299),
    ("The Remains of the Day", "Kazuo Ishiguro", 1989, 1199),
)


def sample_books() -> list[dict[str, str | int]]:
    """Return the sample books as ``BookIn`` fields, each with a distinct valid ISBN-13.

    The ISBNs are deterministic (``978-0-00-0NNNN-C``), so every seeded database holds the same
    rows in the same order.
    """
    books: list[dict[str, str | int]] = []
    for number, (title, author, year, price_cents) in enumerate(_BOOKS, start=1):
        first12 = f"978000{number:06d}"
        books.append(
            {
                "title": title,
                "author": author,
                "year": year,
                "isbn": first12 + isbn13_check_digit(first12),
                "price_cents": price_cents,
            }
        )
    return books
