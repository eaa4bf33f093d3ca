from eksctl_ml.cli import app

app(prog_name="mlplat")
