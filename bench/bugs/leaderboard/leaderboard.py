"""A game leaderboard that keeps each player's best score."""


class Leaderboard:
    """Best scores by player; a higher score is better."""

    def __init__(self):
        self._best = {}

    def submit(self, player, score):
        """Record a score; whether it is the player's new best."""
        if player in self._best and self._best[player] >= score:
            return False
        self._best[player] = score
        return True

    def __len__(self):
        return len(self._best)

    def best(self, player):
        """The player's best score, or None."""
        return self._best.get(player)

    def top(self, n):
        """The n best (player, score) pairs, best first; ties by name."""
        return sorted(self._best.items(), key=lambda item: (-item[1], item[0]))[:n]

    def bottom(self, n):
        """The n worst (player, score) pairs, worst first; ties by name."""
        return sorted(self._best.items(), key=lambda item: (-item[1], item[0]))[:n]

    def rank(self, player):
        """1 for the best player; players with equal scores share a rank."""
        score = self._best[player]
        return 1 + sum(1 for other in self._best.values() if other > score)

    def remove(self, player):
        """Forget a player; whether they were known."""
        return self._best.pop(player, None) is not None
