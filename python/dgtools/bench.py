"""Small helpers the benchmark scripts share: the printed report kept for a
text file, and the 95% Wilson score interval of a recall."""
import math

Z95 = 1.959963984540054


class Report:
    """Prints lines as they come and keeps them for the text file (say = Report(); say(...); say.save(path))."""

    def __init__(self):
        self.lines = []

    def __call__(self, text=""):
        for line in str(text).split("\n"):
            print(line, flush=True)
            self.lines.append(line)

    def save(self, path):
        with open(path, "w") as f:
            f.write("\n".join(self.lines) + "\n")


def wilson(found, n, z=Z95):
    """95% Wilson score interval of a proportion found/n."""
    if n == 0:
        return (0.0, 1.0)
    p = found / n
    den = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z / den * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))
