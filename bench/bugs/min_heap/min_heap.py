"""A binary min-heap used as a priority queue."""


class MinHeap:
    """The smallest item comes out first."""

    def __init__(self, items=()):
        self._heap = []
        for item in items:
            self.push(item)

    def __len__(self):
        return len(self._heap)

    def push(self, item):
        """Add an item."""
        self._heap.append(item)
        self._sift_up(len(self._heap) - 1)

    def peek(self):
        """The smallest item, left in place."""
        if not self._heap:
            raise IndexError("peek at an empty heap")
        return self._heap[0]

    def pop(self):
        """Remove and return the smallest item."""
        if not self._heap:
            raise IndexError("pop from an empty heap")
        last = self._heap.pop()
        if not self._heap:
            return last
        smallest, self._heap[0] = self._heap[0], last
        self._sift_down(0)
        return smallest

    def _sift_up(self, index):
        while index > 0:
            parent = (index - 1) // 2
            if self._heap[index] >= self._heap[parent]:
                break
            self._heap[index], self._heap[parent] = self._heap[parent], self._heap[index]
            index = parent

    def _sift_down(self, index):
        size = len(self._heap)
        while True:
            child = 2 * index + 2
            if child >= size:
                return
            if child + 1 < size and self._heap[child + 1] < self._heap[child]:
                child += 1
            if self._heap[index] <= self._heap[child]:
                return
            self._heap[index], self._heap[child] = self._heap[child], self._heap[index]
            index = child


def heapsort(items):
    """The items in ascending order."""
    heap = MinHeap(items)
    return [heap.pop() for _ in range(len(heap))]


def smallest(items, n):
    """The n smallest items, in ascending order."""
    heap = MinHeap(items)
    return [heap.pop() for _ in range(min(n, len(heap)))]
