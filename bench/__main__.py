"""`python -m bench` (`make bench`): the nudge-delivery benchmark, `bench.dispatch`.

Its options pass through (`python -m bench --pending 20000 --due 2000`). The Slack latency
benchmark runs on its own: `python -m bench.slack_latency`.
"""

from bench.dispatch import main

if __name__ == "__main__":
    main()
