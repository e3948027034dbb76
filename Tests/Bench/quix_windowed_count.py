"""The peer of `wardwatch bench streams`: the same keyed count per device per one-minute tumbling window (event time =
record timestamp, every update emitted) in Quix Streams, reading the same input topic on the same broker.
Prints one JSON line: {"records": N, "seconds": S} with S measured from the first to the last input record processed.

usage: quix_windowed_count.py BROKERS INPUT OUTPUT RECORDS GUARANTEE GROUP STATE_DIR
"""
import json
import sys
import time
from datetime import timedelta

from quixstreams import Application


def main() -> None:
    brokers, input_topic, output_topic, records, guarantee, group, state_dir = sys.argv[1:8]
    expected = int(records)
    app = Application(
        broker_address=brokers,
        consumer_group=group,
        auto_offset_reset="earliest",
        processing_guarantee=guarantee,
        state_dir=state_dir,
        loglevel="WARNING",
        use_changelog_topics=True,
    )
    source = app.topic(input_topic, key_deserializer="bytes", value_deserializer="bytes")
    sink = app.topic(output_topic, key_serializer="bytes", value_serializer="json")
    progress = {"count": 0, "first": None}

    def seen(value):
        if progress["first"] is None:
            progress["first"] = time.perf_counter()
        progress["count"] += 1
        if progress["count"] == expected:
            elapsed = time.perf_counter() - progress["first"]
            print(json.dumps({"records": expected, "seconds": elapsed}), flush=True)
            app.stop()
        return value

    sdf = app.dataframe(source)
    sdf = sdf.update(seen)
    sdf = sdf.tumbling_window(timedelta(minutes=1)).count().current()
    sdf = sdf.to_topic(sink)
    app.run()


if __name__ == "__main__":
    main()
