import { withoutStatement } from './database-log.util';

describe('database notices in the logs', () => {
  it("keep knex's label and the error's class, never the statement or its values", () => {
    const line = withoutStatement(
      "Connection Error: DatabaseConnectionLostError: select * from users where email_canonical = 'ada@example.com' and password_hash = '$argon2id$v=19$m=19456' - PostgreSQL closed the connection",
    );
    expect(line).toBe('Connection Error: DatabaseConnectionLostError (details withheld)');
  });

  it('describe an error object by its class and code only', () => {
    const error = Object.assign(new Error("insert into sessions (ip) values ('203.0.113.7')"), { name: 'QueryFailedError', code: 'ECONNRESET' });
    expect(withoutStatement(error)).toBe('QueryFailedError (ECONNRESET) (details withheld)');
  });

  it('say nothing of any other notice but its label', () => {
    expect(withoutStatement("select 'secret-value'::text")).toBe('Database notice (details withheld)');
    // A value shaped like a class name, after a lowercase driver error, is still a value.
    expect(withoutStatement("Connection Error: error: insert into users (name) values ('MaryAnnSmithError')")).toBe('Connection Error (details withheld)');
    expect(withoutStatement('Connection Error: Connection ended unexpectedly')).toBe('Connection Error (details withheld)');
  });
});
