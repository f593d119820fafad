"""The built-in synthetic study (only when `study.synthetic` is true).

input:  data/codebooks/*.yaml (they name the raw items)
output: every raw file under `synthetic.out` that config.yaml names, truth.json, the marker
"""


if SYNTHETIC:

    rule simulate:
        input:
            codebooks=codebooks(),
        output:
            synthetic_outputs(),
        log:
            "logs/simulate.log",
        params:
            # the folder of the marker file (the last output), as the config's synthetic.out names it
            out=lambda wildcards, output: Path(output[-1]).parent.as_posix(),
            seed=config["study"]["seed"],
            scale=config["synthetic"]["scale"],
            pool_scale=config["synthetic"]["pool_scale"],
            targets=config["synthetic"].get("targets", {}),
            effect=config["synthetic"].get("effect", {}),
            regions=config["regions"]["pairs"],
            anchors=config["anchors"],
        conda:
            "../envs/mentorwijs.yaml"
        script:
            "../scripts/simulate.py"
