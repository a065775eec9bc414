from prescriptions import create_app

app = create_app()
