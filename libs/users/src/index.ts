export { User, toUserView, type UserRow, type UserView } from './user.entity';
export { UserRepository } from './user.repository';
export { UsersModule } from './users.module';
export { UsersService } from './users.service';
export { canonicalEmail, emailLocalPart, normalizeEmail } from './email.util';
