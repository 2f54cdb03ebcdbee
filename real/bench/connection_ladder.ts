// When the cluster bench stops raising the number of connections in its
// search for peak throughput. A step counts as growth when it beats the best
// so far by more than 5%; the search stops after two steps in a row without
// growth. One step is not enough on a shared machine: a neighbour's burst can
// make a single step come out low, and stopping there would report the peak
// of a smaller concurrency than the servers can take.

const GROWTH = 1.05;
const FLAT_STEPS_TO_STOP = 2;

export class ConnectionLadder {
  private bestOps = 0;
  private flatSteps = 0;

  /** Records a step's throughput; false once the search should stop. */
  offer(opsPerSec: number): boolean {
    const grew = opsPerSec > this.bestOps * GROWTH;
    this.bestOps = Math.max(this.bestOps, opsPerSec);
    this.flatSteps = grew ? 0 : this.flatSteps + 1;
    return this.flatSteps < FLAT_STEPS_TO_STOP;
  }
}
