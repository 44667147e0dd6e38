from hotline.cli import app

app(prog_name="hotline")
