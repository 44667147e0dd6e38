from hotline_client.cli import main

main()
