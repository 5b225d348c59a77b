"""The `serverless-crud` command line: local development and operating a deployed stack.

Never part of the Lambda package: the function's code is `serverless_crud` alone.
"""
